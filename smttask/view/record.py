"""One record of the store, as a view shows it: a thin wrapper over Sumatra's record.

The common fields come from one row read with the whole view; the rest (outputs, captured
output, Sumatra's full ``Record``) is read when first asked for. The wrapper adds what a task
user needs: the task behind the record (``task``) and its code at the record's commit
(``task_code``), its stored results (``get_output``), how it differs from another record
(``difference``), tag editing and ``invalidate()`` (both made by ``smttask.recording.edit``).
"""

from __future__ import annotations

import html
import json
import warnings
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError
from ..recording import edit, fields
from . import files, keys
from .errors import RecordNotFoundError

if TYPE_CHECKING:
    from ..recording.api import RecordRow
    from ..recording.lineage import Node
    from ..reproduce import Reproduction, Tolerance
    from ..task import Task
    from .difference import Difference
    from .source import Source

#: Status tags, the first one present giving the status.
STATUS_TAGS = {
    fields.CRASHED: "crashed",
    fields.KILLED: "killed",
    fields.FINISHED: "finished",
    fields.RUNNING: "running",
    fields.SURROGATE: "surrogate",
}
#: The tag `invalidate()` adds.
INVALID = edit.INVALID_TAG


class Record:
    """A stored record. ``label``, ``timestamp`` (UTC), ``duration`` (s), ``outcome``,
    ``reason``, ``version`` (commit), ``main_file``, ``user``, ``taskname`` (module.task),
    ``name`` (task), ``tags``, ``status``, ``params`` (the task description)."""

    def __init__(self, row: RecordRow, source: Source) -> None:
        self._source = source
        self.label: str = row.label
        self.timestamp: datetime = row.timestamp
        self.duration: float | None = row.duration
        self.outcome: str = row.outcome
        self.reason: str = row.reason
        self.version: str = row.version
        self.main_file: str = row.main_file
        self.user: str = row.user
        self.taskname: str = row.script_arguments
        self.tags: frozenset[str] = row.tags
        self._params_text: str = row.parameters
        self._params: Any = None
        self._outputs: list[files.OutputKey] | None = None
        self._captured: str | None = None
        self._task: Task | None = None

    # -- what the row holds ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The task's name (``analyze``); ``taskname`` is ``module.analyze``."""
        return self.taskname.rsplit(".", 1)[-1]

    @property
    def status(self) -> str:
        """``finished``, ``crashed``, ``killed``, ``running``, ``surrogate`` (or ``""``)."""
        for tag, status in STATUS_TAGS.items():
            if tag in self.tags:
                return status
        return ""

    @property
    def user_tags(self) -> frozenset[str]:
        """The tags other than the status tag."""
        return self.tags - STATUS_TAGS.keys()

    @property
    def params(self) -> dict[str, Any]:
        """The record's parameters: the description of its task (inputs, upstream tasks)."""
        if self._params is None:
            try:
                params = json.loads(self._params_text) if self._params_text else {}
            except ValueError:
                params = {"text": self._params_text}  # not JSON: kept as Sumatra stored it
            self._params = params if isinstance(params, dict) else {"value": params}
        return self._params

    @property
    def parameters(self) -> dict[str, Any]:
        """The record's parameters (``params``; Sumatra's name)."""
        return self.params

    def param(self, key: keys.Key, default: Any = keys.MISSING) -> Any:
        """The parameter at `key` (dotted, see ``smttask.view.keys``); `default` if absent."""
        value = keys.resolve(self.params, key)
        if value is keys.MISSING:
            if default is not keys.MISSING:
                return default
            known = ", ".join(keys.flatten(self.params)) or "none"
            raise KeyError(
                f"Record {self.label} has no parameter {keys.show(key)!r}. Its inputs: {known}."
            )
        return value

    # -- read on demand -------------------------------------------------------------------------

    @property
    def output_data(self) -> list[files.OutputKey]:
        """The output files the record names: path (in the output store), SHA-1, output."""
        if self._outputs is None:
            self._outputs = [files.OutputKey.parse(k) for k in self._source.outputs(self.label)]
        return self._outputs

    @property
    def outputs(self) -> dict[str, Path]:
        """{output name: archived file} (name ``""`` for a task's single unnamed output)."""
        return files.output_paths(self.label, self.output_data, self._source.info.output_root)

    @property
    def outputpaths(self) -> list[Path]:
        """The archived files the record names, in the order it names them."""
        root = self._source.info.output_root
        return [root / key.path for key in self.output_data]

    @property
    def stdout_stderr(self) -> str:
        """What the task printed (and the traceback of a crash)."""
        if self._captured is None:
            self._captured = self._source.text(self.label, "stdout_stderr")
        return self._captured

    @property
    def sumatra(self) -> Any:
        """Sumatra's own ``Record`` object (every field, as ``smt view`` shows it); from a
        store other than Sumatra's, that store's own object for the record."""
        return self._source.store_record(self.label)

    # -- the task and its results ---------------------------------------------------------------

    @property
    def task(self) -> Task:
        """The task the record executed, rebuilt from its description (imports its module)."""
        if self._task is None:
            self._task = files.rebuild_task(self, check_digest=True)
        return self._task

    @property
    def task_code(self) -> str:
        """The source of the task's function (with its decorators) as it was at the record's
        commit, read from git (``git cat-file blob <version>:<main_file>``), never from the
        working tree; CodeNotFoundError if the commit or the file is gone."""
        from .taskcode import task_code

        return task_code(self)

    def difference(self, other: Record) -> Difference:
        """What differs between this record and `other`: parameters (dotted keys, through
        upstream tasks), task, digest, commit, main file, output hashes."""
        from .difference import difference

        if not isinstance(other, Record):
            raise TypeError(f"difference() compares two records, not a record and {other!r}.")
        return difference(self, other)

    def describe(self) -> str:
        """The record as text: its fields, parameters (dotted keys) and output files."""
        from .display import describe

        return describe(self)

    def get_output(self, name: str | None = None) -> Any:
        """The result this record stored (or its output `name`), read from the files the
        record names after checking their recorded SHA-1 — not from the task's current link."""
        stored = self.output_data
        if not stored:
            why = f" (it {self.status}: {self.outcome})" if self.status == "crashed" else ""
            raise OutputError(
                f"Record {self.label} stored no output{why}. Pick a finished record, e.g. "
                f"rs.filter.status('finished').latest."
            )
        task = (
            self._task if self._task is not None else files.rebuild_task(self, check_digest=False)
        )
        return files.load_output(self.label, task, stored, self._source.info.output_root, name)

    # -- lineage and reproduction ---------------------------------------------------------------

    @property
    def parents(self) -> list[Record]:
        """The records that produced the stored results this record read (its upstream
        tasks' records, and the earlier iteration an iterative task resumed from)."""
        from ..recording.lineage import parents

        return self._source.records(parents(self._source.store, self.label))

    @property
    def children(self) -> list[Record]:
        """The records that read a result this record produced, newest first."""
        from ..recording.lineage import children

        return self._source.records(children(self._source.store, self.label))

    def lineage(self) -> Node:
        """The tree of records from this one back to the raw inputs (see
        ``smttask.recording.lineage``; ``smttask store lineage`` prints it)."""
        from ..recording.lineage import lineage

        return lineage(self._source.store, self.label)

    def reproduce(
        self, *, tolerance: Tolerance | None = None, use_recorded_inputs: bool = False
    ) -> Reproduction:
        """Re-run this record's task from its commit and compare its outputs with the
        recorded ones (``smttask.reproduce``; ``smttask reproduce LABEL`` does the same)."""
        from ..reproduce import reproduce_record

        return reproduce_record(
            self._source.store,
            self.label,
            tolerance=tolerance,
            use_recorded_inputs=use_recorded_inputs,
        )

    # -- editing --------------------------------------------------------------------------------

    def add_tag(self, *tags: str) -> Record:
        """Add tags to the record in the store; return the record."""
        self._set_tags(add=tags)
        return self

    def remove_tag(self, *tags: str) -> Record:
        """Remove tags from the record in the store; return the record."""
        self._set_tags(remove=tags)
        return self

    def _set_tags(self, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        new = edit.edit_tags(self._source.store, [self.label], add, remove)
        self._took(new.get(self.label))

    def _took(self, tags: frozenset[str] | None) -> None:
        if tags is None:
            raise RecordNotFoundError(
                f"Record {self.label} is no longer in the store {self._source.info.shown_store}; "
                f"it was deleted or replaced. Read the records again (RSView())."
            )
        self.tags = tags

    def invalidate(self) -> list[Path]:
        """Mark the record invalid, so that its task never loads its results again.

        Adds the tag ``_invalid_``, removes the input-store links pointing to the record's
        files and renames those files to ``<name>.invalid.<ext>`` (updating the record), so
        the next ``task.run()`` computes the task again — or loads an earlier valid result
        still archived under the task's unnumbered file name. Nothing is deleted. Returns the
        files' new paths.
        """
        digest = self.params.get("digest")
        done = edit.invalidate(
            self._source.store, self.label, digest if isinstance(digest, str) else None
        )
        self._outputs = None
        self._took(done.tags)
        for refused in done.refused:
            warnings.warn(refused, stacklevel=2)
        return done.files

    # -- display --------------------------------------------------------------------------------

    def __repr__(self) -> str:
        when = f"{self.timestamp:%Y-%m-%d %H:%M:%S}" if self.timestamp else "?"
        return f"<Record {self.label} {self.name} {self.status or '?'} {when} UTC>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and (other.label, other._source.info.root) == (
            self.label,
            self._source.info.root,
        )

    def __hash__(self) -> int:
        return hash(self.label)

    def _repr_html_(self) -> str:
        rows = [
            ("label", self.label),
            ("task", self.taskname),
            ("status", self.status),
            ("tags", ", ".join(sorted(self.user_tags))),
            ("timestamp", f"{self.timestamp:%Y-%m-%d %H:%M:%S} UTC"),
            ("duration", "" if self.duration is None else f"{self.duration:.3g} s"),
            ("outcome", self.outcome),
            ("reason", self.reason),
            ("version", self.version[:12]),
            ("main file", self.main_file),
        ]
        rows += [(f"param {k}", _short(v)) for k, v in keys.flatten(self.params).items()]
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in rows
            if v not in ("", None)
        )
        return f"<table>{body}</table>"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"
