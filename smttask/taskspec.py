"""What a decorator learns from a function: its inputs, defaults, output and options; and
the identity of the task type (its kind and the fingerprint of its code, or its version).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import string
import threading
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import codeid, hooks, serialization
from . import digest as _digest
from .coderefs import is_code
from .errors import GraphError, TaskDefinitionError, TaskInputError, short_repr
from .taskoutput import OutputSpec, is_output_dir

if TYPE_CHECKING:
    import pydantic
    from pydantic.fields import ModelField

#: Options every task kind accepts in its decorator.
COMMON_OPTIONS = ("cache", "threads", "resources", "retries", "version", "uses", "label")


@dataclass(frozen=True)
class TaskSpec:
    fn: Callable[..., Any]
    name: str  # function name: the folder of its outputs
    module: str
    qualname: str
    params: tuple[str, ...]
    annotations: Mapping[str, Any]
    defaults: Mapping[str, Any]  # validated
    output: OutputSpec
    cache: bool = False
    threads: int = 1
    resources: Mapping[str, Any] = field(default_factory=dict)
    retries: int = 0
    version: str | None = None
    folder_param: str | None = None  # the parameter annotated OutputDir (not an input)
    uses: tuple[Any, ...] = ()  # more code whose fingerprint counts
    label: str | Callable[..., str] | None = (
        None  # readable name (``smttask.labels``), not identity
    )
    kind: str = ""  # the kind that decorated the function
    kind_identity: str = ""  # what the kind's own options add to the identity
    _code: codeid.Fingerprint | None = field(default=None, init=False, repr=False, compare=False)
    _extra: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _model: list[type[pydantic.BaseModel]] = field(default_factory=list, repr=False, compare=False)

    @property
    def model(self) -> type[pydantic.BaseModel]:
        """The pydantic model of the inputs (built when first asked for: see ``build_spec``)."""
        if not self._model:
            self._model.append(_input_model(self.fn, self.annotations))
        return self._model[0]

    @property
    def taskname(self) -> str:
        """Qualified name: what the digest covers and what task files refer to."""
        return f"{self.module}.{self.qualname}"

    @property
    def digest_extra(self) -> bytes:
        """What the digest covers besides the name and inputs: the kind, and the code
        fingerprint, or the version when one is given instead (computed at the first digest
        of the type, then kept)."""
        extra = self._extra
        if extra is None:
            what = (
                f"version={self.version}"
                if self.version is not None
                else f"code={self.code.digest}"
            )
            extra = f"kind={self.kind}\0{what}\0{self.kind_identity}".encode()
            object.__setattr__(self, "_extra", extra)
        return extra

    @property
    def code(self) -> codeid.Fingerprint:
        """The fingerprint of the function and of the project code it uses (taken once)."""
        code = self._code
        if code is None:
            code = _fingerprint(self)
            object.__setattr__(self, "_code", code)
        return code

    def field(self, param: str) -> ModelField:
        return self.model.__fields__[param]

    def validate(self, param: str, value: Any) -> Any:
        """Validate one (non-lazy) input value."""
        ann = self.annotations[param]
        if type(value) is ann and ann in serialization.EXACT_TYPES:  # hot path: skip pydantic
            return value
        return serialization.validate(ann, value, what=f"{self.name}: input {param!r}")

    def signature_text(self) -> str:
        parts = []
        for p in self.params:
            ann = serialization.type_name(self.annotations[p])
            default = f"={self.defaults[p]!r}" if p in self.defaults else ""
            parts.append(f"{p}: {ann}{default}")
        return f"{self.name}({', '.join(parts)})"


_taking = threading.local()


def _fingerprint(spec: TaskSpec) -> codeid.Fingerprint:
    pending: set[int] = _taking.__dict__.setdefault("pending", set())
    if id(spec) in pending:
        raise GraphError(
            f"The code of task {spec.taskname} uses a task of its own type (found while "
            f"taking its code fingerprint), so its identity would depend on itself. Pass that "
            f"task as an input instead of reading it from a global."
        )
    pending.add(id(spec))
    try:
        return codeid.fingerprint(
            spec.fn,
            uses=spec.uses,
            own_decorator=is_kind,
            defaults_are_inputs=True,
            annotations=[*spec.annotations.values(), spec.output.annotation],
        )
    finally:
        pending.discard(id(spec))


def is_kind(obj: Any) -> bool:
    """Whether `obj` is a task kind (smttask's own decorators: they do not count as code)."""
    return isinstance(obj, type) and obj.__dict__.get("_is_kind", False) is True


def build_spec(
    fn: Callable[..., Any], kind: str, options: Mapping[str, Any], identity: str = ""
) -> TaskSpec:
    """Inspect `fn` and return its TaskSpec; raise TaskDefinitionError with the fix if it can't.

    `fn` is a function, or a class whose ``__call__`` is the task (see ``callable_class``).
    """
    if isinstance(fn, type):
        fn = callable_class(fn, kind)
    if not callable(fn) or not hasattr(fn, "__name__"):
        raise TaskDefinitionError(
            f"@{kind} decorates a function; got {fn!r}. Write `@{kind}` directly above `def`."
        )
    where = f"{fn.__module__}.{fn.__qualname__}"
    try:
        hints = typing.get_type_hints(fn)
        returns = typing.get_type_hints(fn, include_extras=True).get("return")  # Annotated kept
    except NameError as exc:
        raise TaskDefinitionError(
            f"@{kind} cannot resolve an annotation of {where}: {exc}. Import the type in the "
            f"function's module."
        ) from None
    sig = inspect.signature(fn)
    params: list[str] = []
    defaults: dict[str, Any] = {}
    folder_param: str | None = None
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TaskDefinitionError(
                f"@{kind} {where}: parameter '{p}' is not supported: a task's inputs must be "
                f"named so they can be recorded. List each input as its own parameter."
            )
        if p.name not in hints:
            raise TaskDefinitionError(
                f"@{kind} {where}: parameter {p.name!r} has no type annotation. Every input "
                f"needs one (e.g. `{p.name}: float`) so it can be validated and serialized."
            )
        if is_output_dir(hints[p.name]):
            if folder_param is not None:
                raise TaskDefinitionError(
                    f"@{kind} {where}: parameters {folder_param!r} and {p.name!r} are both "
                    f"annotated OutputDir; a task gets one output folder. Write every file "
                    f"into it (subfolders are fine)."
                )
            folder_param = p.name
            continue
        params.append(p.name)
    if "return" not in hints:
        raise TaskDefinitionError(
            f"@{kind} {where}: the return type is not annotated. Add one (e.g. `-> float`, "
            f"`-> Tuple[float, float]` or a TaskOutput subclass) so results can be stored."
        )
    _check_return(kind, where, hints["return"], folder_param)
    annotations = {p: hints[p] for p in params}
    # pydantic's model of the inputs proves here that pydantic can validate them; plain
    # builtin annotations need no proof, and their model is built only if asked for.
    models = []
    if not all(map(_plain, annotations.values())):
        models.append(_input_model(fn, annotations, kind))
        for annotation in annotations.values():  # validating and hashing need nothing more
            serialization.prepare(annotation)
        _digest.prepare()
    output = OutputSpec.from_annotation(returns)
    output.check_names_params(tuple(params), f"@{kind} {where}")
    spec_args = dict(
        fn=fn,
        name=fn.__name__,
        module=fn.__module__,
        qualname=fn.__qualname__,
        params=tuple(params),
        annotations=annotations,
        defaults={},
        _model=models,
        output=output,
        kind=kind,
        kind_identity=identity,
    )
    spec_args.update(_check_options(kind, where, options))
    spec_args["folder_param"] = folder_param
    spec = TaskSpec(**spec_args)  # type: ignore[arg-type]
    if isinstance(spec.label, str):
        _check_label_fields(kind, where, spec.label, spec.params)
    for p in sig.parameters.values():
        if p.default is not p.empty and p.name != folder_param:
            try:
                defaults[p.name] = spec.validate(p.name, p.default)
            except TaskInputError as exc:
                raise TaskDefinitionError(
                    f"@{kind} {where}: the default of {p.name!r} is invalid: {exc}"
                ) from None
    object.__setattr__(spec, "defaults", defaults)
    _prepare_first_hit(spec)
    return spec


def _prepare_first_hit(spec: TaskSpec) -> None:
    """Make now, once per task type, what the first cache hit of a task of this type needs
    and no later definition changes: the validators of its outputs, its logger, what the
    default session reads (``hooks.prepare_default``) and what the code fingerprint reads
    ahead (``codeid.prepare``; the fingerprint itself is taken at the first digest). Each
    piece is a cache checked where it is used; a failure here is met again, and reported,
    where that piece is used."""
    output = spec.output
    for name in output.names:
        try:
            serialization.prepare(output.type_of(name))
        except Exception:  # reported when a result is validated
            continue
    logging.getLogger(f"smttask.task.{spec.name}")  # ``TaskNode.logger``
    hooks.prepare_default()
    if spec.version is None:
        with contextlib.suppress(Exception):  # met again, and reported, at the fingerprint
            codeid.prepare(spec.fn, annotations=[*spec.annotations.values(), output.annotation])


def callable_class(cls: type, kind: str) -> Callable[..., Any]:
    """The task function of a callable class: make an instance (``cls()``, no arguments) and
    call it with the inputs. The class names the task; ``__call__`` declares its inputs and
    output; other methods are helpers of ``__call__``. A new instance serves each call, so no
    state survives from one call to the next (a task is a pure function of its inputs)."""
    where = f"{cls.__module__}.{cls.__qualname__}"
    call = inspect.getattr_static(cls, "__call__", None)
    if not inspect.isfunction(call):
        raise TaskDefinitionError(
            f"@{kind} on class {where}: a class task needs a `def __call__(self, ...)` method "
            f"with annotated inputs and return type; {cls.__qualname__} has none."
        )
    try:
        inspect.signature(cls).bind()
    except TypeError:
        raise TaskDefinitionError(
            f"@{kind} on class {where}: the class is instantiated without arguments for each "
            f"call, but its constructor needs some ({inspect.signature(cls)}). Make its "
            f"parameters inputs of __call__ instead."
        ) from None
    except ValueError:  # no signature to inspect (a builtin base): instantiated as is
        pass
    call_sig = inspect.signature(call)
    params = list(call_sig.parameters.values())
    if not params or params[0].kind not in (
        params[0].POSITIONAL_ONLY,
        params[0].POSITIONAL_OR_KEYWORD,
    ):
        raise TaskDefinitionError(
            f"@{kind} on class {where}: __call__ must be a plain method taking `self` first."
        )

    def run_instance(**inputs: Any) -> Any:
        return cls()(**inputs)

    try:
        hints = typing.get_type_hints(call)
    except NameError as exc:
        raise TaskDefinitionError(
            f"@{kind} cannot resolve an annotation of {where}.__call__: {exc}. Import the "
            f"type in the class's module."
        ) from None
    hints.pop(params[0].name, None)
    run_instance.__signature__ = call_sig.replace(parameters=params[1:])  # type: ignore[attr-defined]
    run_instance.__annotations__ = hints
    run_instance.__name__ = cls.__name__
    run_instance.__qualname__ = cls.__qualname__
    run_instance.__module__ = cls.__module__
    run_instance.__doc__ = call.__doc__ or cls.__doc__
    run_instance.__wrapped__ = cls  # type: ignore[attr-defined]
    return run_instance


#: Modules whose objects are pictures or plots: they cannot be a stored result, only files.
_FIGURE_MODULES = ("matplotlib", "plotly", "bokeh", "PIL", "seaborn", "altair")

_FOLDER_EXAMPLE = (
    "    @RecordedTask\n"
    "    def plot(..., out: OutputDir) -> OutputDir:\n"
    "        fig.savefig(out / 'figure.svg')  # and/or .png, .pdf\n"
    "        return out\n"
    "(from smttask import OutputDir; see docs/howto-files.md)"
)


def _check_return(kind: str, where: str, annotation: Any, folder_param: str | None) -> None:
    """Refuse, before anything runs, a return type that no output store can keep."""
    returns_folder = is_output_dir(annotation)
    if returns_folder and folder_param is None:
        raise TaskDefinitionError(
            f"@{kind} {where} returns OutputDir but has no parameter annotated OutputDir to "
            f"receive the folder. Add one, e.g.\n{_FOLDER_EXAMPLE}"
        )
    if folder_param is not None and not returns_folder:
        raise TaskDefinitionError(
            f"@{kind} {where}: parameter {folder_param!r} is annotated OutputDir, so the task's "
            f"result is that folder: annotate the return type `-> OutputDir` too (write any "
            f"other values into the folder, e.g. as a JSON file)."
        )
    annotations = [annotation]
    if isinstance(annotation, type) and hasattr(annotation, "output_types"):  # a TaskOutput
        annotations = list(annotation.output_types.values())
    for ann in annotations:
        for t in _types_in(ann):
            if is_output_dir(t) and ann is not annotation:
                raise TaskDefinitionError(
                    f"@{kind} {where}: an OutputDir is the whole result of a task, not one of "
                    f"its named outputs. Return `-> OutputDir` and write the other values into "
                    f"the folder."
                )
            module = getattr(t, "__module__", "") or ""
            if isinstance(t, type) and module.split(".")[0] in _FIGURE_MODULES:
                raise TaskDefinitionError(
                    f"@{kind} {where} returns {t.__module__}.{t.__qualname__}, which cannot be "
                    f"stored as a task result (it is a live plotting object, not data). Save "
                    f"it as files in an output folder instead:\n{_FOLDER_EXAMPLE}"
                )


def _types_in(annotation: Any) -> list[Any]:
    """`annotation` and the types inside it (``Tuple[Figure, float]`` → Figure, float...)."""
    found = [annotation]
    for arg in typing.get_args(annotation):
        found.extend(_types_in(arg))
    return found


_PLAIN = frozenset({int, float, str, bool, type(None), Any})
_PLAIN_CONTAINERS = frozenset({list, tuple, dict, set, frozenset})


def _plain(annotation: Any) -> bool:
    """Whether `annotation` is made of builtin scalars and containers only (pydantic always
    has a validator for those)."""
    if annotation in _PLAIN or annotation is None or annotation is Ellipsis:
        return True
    origin = typing.get_origin(annotation)
    if origin in _PLAIN_CONTAINERS:
        return all(map(_plain, typing.get_args(annotation)))
    return False


def _input_model(
    fn: Callable[..., Any], annotations: Mapping[str, Any], kind: str = "Task"
) -> type[pydantic.BaseModel]:
    try:
        return serialization.field_model(f"{fn.__name__}_inputs", annotations)
    except (TypeError, RuntimeError, ValueError) as exc:
        raise TaskDefinitionError(
            f"@{kind} {fn.__module__}.{fn.__qualname__}: pydantic cannot build a validator for "
            f"its annotations: {exc}. Use types pydantic or scityping know (e.g. "
            f"`from scityping.numpy import Array`)."
        ) from None


def _check_options(kind: str, where: str, options: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in COMMON_OPTIONS:
            raise TaskDefinitionError(
                f"@{kind}({key}=...) on {where}: unknown option {key!r}. "
                f"Options are: {', '.join(COMMON_OPTIONS)}."
            )
        if key == "cache" and not isinstance(value, bool):
            raise TaskDefinitionError(
                f"@{kind} {where}: cache must be True or False, not {value!r}."
            )
        if key in ("threads", "retries") and (not isinstance(value, int) or value < 0):
            raise TaskDefinitionError(
                f"@{kind} {where}: {key} must be a non-negative integer, not {value!r}."
            )
        if key == "resources" and not isinstance(value, Mapping):
            raise TaskDefinitionError(
                f"@{kind} {where}: resources must be a dict such as "
                f"{{'mem_mb': 2000, 'runtime': 30}}, not {value!r}."
            )
        if key == "uses":
            value = _check_uses(kind, where, value)
        if key == "label" and not (value is None or isinstance(value, str) or callable(value)):
            raise TaskDefinitionError(
                f"@{kind} {where}: label must be a format string such as 'tau={{tau}}' or a "
                f"function of the inputs returning text, not {value!r}."
            )
        out[key] = str(value) if key == "version" and value is not None else value
    if out.get("version") is not None and out.get("uses"):
        raise TaskDefinitionError(
            f"@{kind} {where}: version= and uses= cannot go together: with a version the "
            f"digest covers the version string instead of any code, so uses= would have no "
            f"effect. Drop version= to let the code count, or drop uses=."
        )
    return out


def _check_label_fields(kind: str, where: str, label: str, params: tuple[str, ...]) -> None:
    """Refuse a label format string naming something that is not an input (a typo would
    otherwise fail only when the first graph is labelled)."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(label) if f is not None]
    except ValueError as exc:
        raise TaskDefinitionError(
            f"@{kind} {where}: label {label!r} is not a valid format string ({exc})."
        ) from None
    unknown = [f for f in fields if f.split(".")[0].split("[")[0] not in params]
    if unknown:
        raise TaskDefinitionError(
            f"@{kind} {where}: label {label!r} names {unknown}, which are not inputs of the "
            f"task (inputs: {list(params)}). Write each input as {{name}}."
        )


def _check_uses(kind: str, where: str, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise TaskDefinitionError(
            f"@{kind} {where}: uses= takes a list of the functions and classes whose code "
            f"counts too, e.g. uses=[smooth, Model]; got {short_repr(value)}."
        )
    for item in value:
        if inspect.isbuiltin(item) or (
            callable(item) and not is_code(item) and not isinstance(item, str)
        ):
            raise TaskDefinitionError(
                f"@{kind} {where}: uses= lists {short_repr(item)}, which is not Python source "
                f"smttask can read (built-in or compiled code). Its package's version is kept in "
                f"every record; if results depend on it, pass the version as a task input or "
                f"bump version=."
            )
        if not is_code(item):
            raise TaskDefinitionError(
                f"@{kind} {where}: uses= lists functions and classes (the objects themselves), "
                f"not {type(item).__name__} {short_repr(item)}. Write uses=[helper], not "
                f"uses=['helper']."
            )
    return tuple(value)
