"""Output formats: how a value becomes the bytes of a result file, and back.

A format has a name, a file extension, says which output annotations it stores, and encodes
and decodes values. Decoding only parses bytes into plain values: the output store then
validates them against the task's declared output type, so a result file never chooses which
types get built (and nothing here ever unpickles).

Precedence: for an output annotation, the formats are asked **newest registration first**;
the first whose ``stores(annotation)`` is true writes it. JSON, registered first, stores
everything and is the fallback; ``.npy`` (registered after it) takes the array annotations,
``.nc`` (``netcdfformat``) the xarray ones. Arrays inside other outputs (a tuple, a dict...)
stay in that output's JSON file.
Reading a file picks the format by the file's extension, so files written before a new format
was registered still read correctly (the new format changes the file name, hence the task's
results are looked for, and computed, anew).

Adding a format is one module and one line::

    class TextFormat(OutputFormat):
        name, extension = "text", "txt"
        def stores(self, annotation): return annotation is str
        def encode(self, value, annotation): return value.encode()
        def decode(self, data, annotation): return data.decode()

    register_format(TextFormat())
"""

from __future__ import annotations

import io
import re
import sys
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from .. import serialization
from ..errors import OutputError


class OutputFormat(ABC):
    """One way of storing outputs in files (register instances with `register_format`)."""

    #: Unique among registered formats; shown in error messages.
    name: ClassVar[str]
    #: File extension without the dot (a letter, then letters and digits); unique as well.
    extension: ClassVar[str]

    @abstractmethod
    def stores(self, annotation: Any) -> bool:
        """Whether outputs declared as `annotation` are stored in this format."""

    @abstractmethod
    def encode(self, value: Any, annotation: Any) -> bytes:
        """The file content for `value` (at least one byte: a stored result is never empty)."""

    @abstractmethod
    def decode(self, data: bytes, annotation: Any) -> Any:
        """The value in `data`, before validation against `annotation` (the store validates).

        Raise ValueError if `data` is not in this format.
        """


def is_array_type(annotation: Any) -> bool:
    np = sys.modules.get("numpy")  # no annotation is an array type unless numpy was imported
    return np is not None and isinstance(annotation, type) and issubclass(annotation, np.ndarray)


class JsonFormat(OutputFormat):
    """JSON (scityping's encoding): every type the task's signature can validate."""

    name, extension = "json", "json"

    def stores(self, annotation: Any) -> bool:
        return True

    def encode(self, value: Any, annotation: Any) -> bytes:
        return serialization.dumps(value).encode()

    def decode(self, data: bytes, annotation: Any) -> Any:
        return serialization.parse_json(data)


class NpyFormat(OutputFormat):
    """NumPy's ``.npy`` for array annotations, never with pickle. Arrays numpy cannot store
    without pickle (object dtype) are written as JSON in the same file; decoding tells them
    apart by the ``.npy`` magic bytes."""

    name, extension = "npy", "npy"
    _MAGIC = b"\x93NUMPY"

    def stores(self, annotation: Any) -> bool:
        return is_array_type(annotation)

    def encode(self, value: Any, annotation: Any) -> bytes:
        import numpy as np

        if isinstance(value, np.ndarray) and not value.dtype.hasobject:
            buf = io.BytesIO()
            np.save(buf, value, allow_pickle=False)
            return buf.getvalue()
        return serialization.dumps(value).encode()

    def decode(self, data: bytes, annotation: Any) -> Any:
        if data[:6] == self._MAGIC:
            import numpy as np

            return np.load(io.BytesIO(data), allow_pickle=False)
        return serialization.parse_json(data)


# -- the registry -------------------------------------------------------------------------------

_formats: list[OutputFormat] = []  # registration order
_generation = 0  # changes with the registry, so that caches of format choices know
_NAME = re.compile(r"[A-Za-z][\w.-]*")
_EXTENSION = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def register_format(fmt: OutputFormat) -> OutputFormat:
    """Make `fmt` available, ahead of the formats registered before it; return it.

    Registering a format with the name and extension of a registered one replaces it, in
    its place (its precedence is kept).
    """
    global _generation
    if not isinstance(fmt, OutputFormat):
        raise TypeError(f"register_format takes an OutputFormat instance, not {fmt!r}.")
    name, ext = getattr(fmt, "name", None), getattr(fmt, "extension", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise OutputError(
            f"Output format {type(fmt).__qualname__} has name {name!r}; give it a name "
            f"starting with a letter (class attribute `name`)."
        )
    if not isinstance(ext, str) or not _EXTENSION.fullmatch(ext) or ext == "invalid":
        raise OutputError(
            f"Output format {name!r} has extension {ext!r}; give it a file extension without "
            f"the dot, made of letters and digits and starting with a letter (e.g. 'txt')."
        )
    for other in _formats:
        if (other.name == name) != (other.extension == ext):
            raise OutputError(
                f"Output format {name!r} (.{ext}) clashes with the registered format "
                f"{other.name!r} (.{other.extension}): names and extensions must be unique, "
                f"so that each file is read by the format that wrote it. Rename one of them."
            )
    same = [i for i, f in enumerate(_formats) if f.name == name]
    if same:
        _formats[same[0]] = fmt
    else:
        _formats.append(fmt)
    _generation += 1
    return fmt


def unregister_format(name: str) -> None:
    """Remove the format called `name` (e.g. at the end of a test)."""
    global _generation
    if not any(f.name == name for f in _formats):
        raise OutputError(f"No output format named {name!r} is registered ({format_names()}).")
    _formats[:] = [f for f in _formats if f.name != name]
    _generation += 1


def format_for(annotation: Any) -> OutputFormat:
    """The format that stores outputs declared as `annotation` (newest registration first)."""
    for fmt in reversed(_formats):
        if fmt.stores(annotation):
            return fmt
    raise OutputError(
        f"No registered output format stores {serialization.type_name(annotation)} "
        f"(registered: {format_names()}). Register one with smttask.storage.register_format."
    )


def format_with_extension(ext: str) -> OutputFormat | None:
    """The format writing files ending in ``.<ext>``, if one is registered."""
    for fmt in _formats:
        if fmt.extension == ext:
            return fmt
    return None


def format_names() -> str:
    return ", ".join(f"{f.name} (.{f.extension})" for f in reversed(_formats)) or "none"


def generation() -> int:
    """A number that changes whenever a format is registered or removed."""
    return _generation


register_format(JsonFormat())
register_format(NpyFormat())
from .netcdfformat import NetcdfFormat  # noqa: E402  (a module of its own; needs formats above)

register_format(NetcdfFormat())
