"""Task files' JSON text: the text ``json.dumps(value, indent=2)`` writes, built faster.

Python's JSON encoder indents in pure Python, one generator per nested value; an export writes
thousands of task files. ``indented`` writes the same text by appending strings, for plain
JSON values (dicts with string keys, lists, tuples, strings, ints, floats, bools, None, of
exactly these types); any other value goes through ``json.dumps``.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii
from typing import Any

_INFINITY = float("inf")


class _Unusual(Exception):
    """A value that ``json.dumps`` writes itself (a subclass, a non-string key, ...)."""


def indented(value: Any) -> str:
    """``json.dumps(value, indent=2)``."""
    out: list[str] = []
    try:
        _write(value, out, "\n")
    except (_Unusual, RecursionError):
        return json.dumps(value, indent=2)
    return "".join(out)


def _write(v: Any, out: list[str], newline: str) -> None:
    """Append the text of `v` to `out`; `newline` starts a line at the indentation of `v`."""
    t = type(v)
    if t is str:
        out.append(encode_basestring_ascii(v))
    elif t is dict:
        if not v:
            out.append("{}")
            return
        inner = newline + "  "
        opening = "{" + inner
        for key, item in v.items():
            if type(key) is not str:
                raise _Unusual
            out.append(opening + encode_basestring_ascii(key) + ": ")
            _write(item, out, inner)
            opening = "," + inner
        out.append(newline + "}")
    elif t is list or t is tuple:
        if not v:
            out.append("[]")
            return
        inner = newline + "  "
        opening = "[" + inner
        for item in v:
            out.append(opening)
            _write(item, out, inner)
            opening = "," + inner
        out.append(newline + "]")
    elif t is int:
        out.append(int.__repr__(v))
    elif t is float:
        if v != v:
            out.append("NaN")
        elif v == _INFINITY:
            out.append("Infinity")
        elif v == -_INFINITY:
            out.append("-Infinity")
        else:
            out.append(float.__repr__(v))
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif v is None:
        out.append("null")
    else:
        raise _Unusual
