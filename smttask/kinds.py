"""The four task kinds.

==========================  ==================================  ============================
kind                        result lives                         digest seen downstream
==========================  ==================================  ============================
``RecordedTask``            on disk (+ memory if ``cache=True``)  its own digest
``MemoizedTask``            in memory, for this process          its own digest
``UnpureMemoizedTask``      in memory, for this process          digest of its *output*
``RecordedIterativeTask``   on disk, one file set per iteration  digest + iteration count
==========================  ==================================  ============================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from . import digest as _digest
from . import hooks
from .errors import TaskDefinitionError
from .node import _MISSING, memory_cache
from .task import Task
from .taskspec import TaskSpec


class RecordedTask(Task):
    """Result written to disk, loaded on later runs; each execution gets a provenance record.

    Options: ``cache=True`` also keeps the result in memory; ``threads``, ``resources`` (dict)
    and ``retries`` are passed to workflow engines; ``uses=[f, ...]`` adds code the digest
    covers besides what the function visibly uses; ``version`` (any string) enters the digest
    *instead of* the code: then bump it yourself whenever a change changes results (see
    ``docs/identity.md``).
    """

    _is_kind = True
    recorded = True

    def _run(
        self, *, recompute: bool, reason: str | None, cache: bool | None = None
    ) -> tuple[Any, str]:
        session = hooks.current()
        keep = self._spec.cache if cache is None else cache
        if not recompute:
            if keep:
                hit = memory_cache.get(self.key, _MISSING)
                if hit is not _MISSING:
                    self.logger.debug("%r: loaded from memory", self)
                    return hit, "memory"
            loaded = self._load(session, keep)
            if loaded is not None:
                return loaded, "disk"
        with session.outputs.lease(self):  # one computation at a time, across processes
            if not recompute:
                loaded = self._load(session, keep)  # computed by the process that held the lease
                if loaded is not None:
                    return loaded, "disk"
            inputs = self.resolved_inputs()
            return (
                self._execute(session, inputs, recompute=recompute, reason=reason, keep=keep),
                "computed",
            )

    def _load(self, session: hooks.Session, keep: bool) -> Any:
        loaded = session.outputs.load(self)
        if loaded is not None:
            self.logger.debug("%r: loaded from disk", self)
            if keep:
                memory_cache[self.key] = loaded
        return loaded

    def _execute(
        self,
        session: hooks.Session,
        inputs: Mapping[str, Any],
        *,
        recompute: bool,
        reason: str | None,
        keep: bool,
        resumed_from: Task | None = None,
    ) -> Any:
        self.logger.debug("%r: computing%s", self, " (recompute)" if recompute else "")
        # Checks the code is committed; the record lists the stored results the call reads.
        handle = session.recorder.begin(self, reason=reason, resumed_from=resumed_from)
        folder = session.outputs.new_folder(self) if self._spec.folder_param else None
        try:
            result, outcome = self._call(inputs, folder)
            paths = session.outputs.save(self, result, recompute=recompute)
        except BaseException as exc:
            if folder is not None:
                session.outputs.discard_folder(folder)
            handle.crashed(exc)
            raise
        handle.finished(paths, outcome)
        if folder is not None:  # the result is the folder where it now lies
            result = type(folder)(paths[""])
        if keep:
            memory_cache[self.key] = result
        return result


class MemoizedTask(Task):
    """Result kept in memory for the life of the process; never written to disk."""

    _is_kind = True

    def _run(
        self, *, recompute: bool, reason: str | None, cache: bool | None = None
    ) -> tuple[Any, str]:
        session = hooks.current()
        if not recompute:
            hit = memory_cache.get(self.key, _MISSING)
            if hit is not _MISSING:
                self.logger.debug("%r: loaded from memory", self)
                return hit, "memory"
        inputs = self.resolved_inputs()
        session.recorder.guard(self)
        self.logger.debug("%r: computing", self)
        result, _ = self._call(inputs)
        if cache is not False:
            memory_cache[self.key] = result
        return result, "computed"


class UnpureMemoizedTask(MemoizedTask):
    """A memoized task whose result may change between processes (e.g. it lists files).

    Downstream tasks see the digest of its *output*, so they are recomputed when it changes.
    """

    _is_kind = True
    digest_from_output = True


class RecordedIterativeTask(RecordedTask):
    """A recorded task that advances an iteration count and can resume from a saved one.

    ``@RecordedIterativeTask('n', map={'n': 'start_n', 'x': 'x0'})`` declares that input ``n``
    counts iterations and that outputs ``n`` and ``x`` of an earlier run become inputs
    ``start_n`` and ``x0`` when resuming. Asked for ``n=5`` with ``n=3`` on disk, the task loads
    the ``n=3`` outputs, calls the function once with ``start_n=3, x0=x(3), n=5`` and stores
    ``n=5``. All iterations of one task share the digest of the inputs other than ``n``.
    """

    _is_kind = True
    iteration_param: ClassVar[str]
    iteration_map: ClassVar[Mapping[str, str]]

    @classmethod
    def _decorate(cls, *args: Any, **options: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not options:
            raise TaskDefinitionError(
                f"@RecordedIterativeTask on {args[0].__qualname__} needs the name of the "
                f"iteration input and the output → input map, e.g. "
                f"@RecordedIterativeTask('n', map={{'n': 'start_n', 'x': 'x0'}})."
            )
        param = args[0] if args else options.pop("iteration", None)
        mapping = options.pop("map", None)
        if not isinstance(param, str) or not isinstance(mapping, Mapping) or len(args) > 1:
            raise TaskDefinitionError(
                f"@RecordedIterativeTask takes the iteration input's name and map=..., e.g. "
                f"@RecordedIterativeTask('n', map={{'n': 'start_n'}}); got "
                f"args={args!r}, map={mapping!r}."
            )
        options = dict(options, _iteration=(param, dict(mapping)))
        return lambda fn: cls._make_type(fn, options)

    @classmethod
    def _kind_identity(cls, kind_options: Mapping[str, Any]) -> str:
        param, mapping = kind_options["_iteration"]
        return f"iteration={param!r};map={sorted(mapping.items())!r}"

    @classmethod
    def _type_namespace(cls, spec: TaskSpec, kind_options: Mapping[str, Any]) -> dict[str, Any]:
        param, mapping = kind_options["_iteration"]
        _check_iteration(spec, param, mapping)
        if spec.folder_param is not None:
            raise TaskDefinitionError(
                f"@RecordedIterativeTask {spec.taskname}: an iterative task cannot write an "
                f"OutputDir (its iterations resume from stored values). Write the files in a "
                f"@RecordedTask that takes the iterative task's result as input."
            )
        return {"iteration_param": param, "iteration_map": mapping}

    @property
    def family_digest(self) -> str:
        """Digest of the inputs other than the iteration count (shared by all iterations)."""
        inputs = {k: v for k, v in self.inputs.items() if k != self.iteration_param}
        return _digest.compute_digest(self._spec.taskname, inputs, self._spec.digest_extra)

    @property
    def iteration(self) -> int:
        return int(self.inputs[self.iteration_param])

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = f"{self.family_digest}__{self.iteration_param}{self.iteration}"
        return self._key

    def _run(
        self, *, recompute: bool, reason: str | None, cache: bool | None = None
    ) -> tuple[Any, str]:
        session = hooks.current()
        keep = self._spec.cache if cache is None else cache
        store = session.outputs
        if not recompute:
            if keep:
                hit = memory_cache.get(self.key, _MISSING)
                if hit is not _MISSING:
                    self.logger.debug("%r: loaded from memory", self)
                    return hit, "memory"
            loaded = store.load(self)
            if loaded is not None:
                self.logger.debug("%r: loaded from disk", self)
                if keep:
                    memory_cache[self.key] = loaded
                return loaded, "disk"
        with store.lease(self):  # one computation at a time, across processes
            if not recompute:
                loaded = self._load(session, keep)
                if loaded is not None:
                    return loaded, "disk"
            result = self._resume(session, recompute=recompute, reason=reason, keep=keep)
            return result, "computed"

    def _resume(
        self, session: hooks.Session, *, recompute: bool, reason: str | None, keep: bool
    ) -> Any:
        store = session.outputs
        inputs = self.resolved_inputs()
        n = self.iteration
        earlier = [m for m in store.iterations(self) if m < n]
        resumed_from = None
        if earlier:
            previous = type(self)(**{**self.inputs, self.iteration_param: max(earlier)})
            saved = store.load(previous)
            if saved is not None:
                outputs = self._spec.output.split(saved)
                for out_name, in_name in self.iteration_map.items():
                    inputs[in_name] = self._spec.validate(in_name, outputs[out_name])
                resumed_from = previous
        if resumed_from is not None:
            self.logger.debug("%r: resuming from %r", self, resumed_from)
        result = self._execute(
            session,
            inputs,
            recompute=recompute,
            reason=reason,
            keep=keep,
            resumed_from=resumed_from,
        )
        return result


def _check_iteration(spec: TaskSpec, param: str, mapping: Mapping[str, str]) -> None:
    where = f"@RecordedIterativeTask {spec.taskname}"
    if param not in spec.params:
        raise TaskDefinitionError(
            f"{where}: the iteration input {param!r} is not a parameter of the function "
            f"(parameters: {list(spec.params)})."
        )
    if spec.annotations[param] is not int:
        raise TaskDefinitionError(
            f"{where}: the iteration input {param!r} must be annotated `int`."
        )
    outputs = spec.output.names
    for out_name, in_name in mapping.items():
        if out_name not in outputs:
            raise TaskDefinitionError(
                f"{where}: map key {out_name!r} is not an output of the task (outputs: "
                f"{list(outputs)}). Map keys are output names; return a TaskOutput subclass."
            )
        if in_name not in spec.params:
            raise TaskDefinitionError(
                f"{where}: map value {in_name!r} is not an input of the task (inputs: "
                f"{list(spec.params)})."
            )


__all__ = ["MemoizedTask", "RecordedIterativeTask", "RecordedTask", "UnpureMemoizedTask"]
