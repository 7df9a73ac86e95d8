"""What differs between two records: their parameters (through upstream tasks), the task
and code they ran, and the outputs they stored (``Record.difference``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import keys

if TYPE_CHECKING:
    import pandas

    from .record import Record

#: Fields compared besides the parameters, with how the text names them.
FIELDS = {
    "taskname": "task",
    "digest": "digest",
    "version": "commit",
    "main_file": "main file",
}


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: 1, 1.0 and true differ, lists compare element by element."""
    if a is keys.MISSING or b is keys.MISSING:
        return a is b
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(
        b, sort_keys=True, default=repr
    )


@dataclass(frozen=True)
class Difference:
    """What differs between record `labels[0]` and record `labels[1]`, each as
    ``{name: (value in the first, value in the second)}``:

    - `parameters`: inputs under their dotted keys (``dt``, ``data.n``, ``data.task``;
      ``keys.MISSING`` where a record has none), through upstream tasks;
    - `fields`: ``taskname``, ``digest`` (it also covers the task's code), ``version`` (the
      commit), ``main_file``;
    - `outputs`: the SHA-1 of each output file ({output name: ...}; None where a record
      stored none).

    False when nothing differs; ``str()`` (or ``text()``) reads it as text, ``dframe()``
    as a table.
    """

    labels: tuple[str, str]
    parameters: dict[str, tuple[Any, Any]]
    fields: dict[str, tuple[Any, Any]]
    outputs: dict[str, tuple[str | None, str | None]]

    def __bool__(self) -> bool:
        return bool(self.parameters or self.fields or self.outputs)

    def text(self) -> str:
        first, second = self.labels
        if not self:
            return f"Records {first} and {second} do not differ (parameters, task, code, outputs)."
        lines = [f"Records {first} (1) and {second} (2) differ in:"]
        for title, found in (("parameters", self.parameters), ("task and code", self.fields)):
            if found:
                lines.append(f"  {title}:")
            for name, (a, b) in found.items():
                label = FIELDS.get(name, name)
                lines.append(f"    {label}: {_show(a)} (1) vs {_show(b)} (2)")
        if self.fields.keys() == {"digest"} and not self.parameters:
            lines.append("    (same inputs, other digest: the task's code or version= changed)")
        if self.outputs:
            lines.append("  outputs (SHA-1):")
            for name, (a, b) in self.outputs.items():
                shown = [_show(keys.MISSING if v is None else v) for v in (a, b)]
                lines.append(f"    {name or '(the output)'}: {shown[0]} (1) vs {shown[1]} (2)")
        return "\n".join(lines)

    __str__ = text

    def dframe(self) -> pandas.DataFrame:
        """The differences as a table: one row per parameter, field or output (index
        ``kind``, ``name``), one column per record (its label)."""
        from .display import _pandas

        pd = _pandas()
        rows = [("parameter", k, *v) for k, v in self.parameters.items()]
        rows += [("field", k, *v) for k, v in self.fields.items()]
        rows += [("output", k, *v) for k, v in self.outputs.items()]
        frame = pd.DataFrame(rows, columns=["kind", "name", *self.labels])
        return frame.set_index(["kind", "name"])


def _show(value: Any) -> str:
    if value is keys.MISSING:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:59] + "…"


def difference(a: Record, b: Record) -> Difference:
    flat_a, flat_b = keys.flatten(a.params), keys.flatten(b.params)
    parameters = {}
    for key in dict.fromkeys([*flat_a, *flat_b]):
        va, vb = flat_a.get(key, keys.MISSING), flat_b.get(key, keys.MISSING)
        if not _same(va, vb):
            parameters[key] = (va, vb)
    fields = {}
    for name in FIELDS:
        va = a.params.get("digest") if name == "digest" else getattr(a, name)
        vb = b.params.get("digest") if name == "digest" else getattr(b, name)
        if va != vb:
            fields[name] = (va, vb)
    out_a = {k.output: k.digest for k in a.output_data}
    out_b = {k.output: k.digest for k in b.output_data}
    outputs = {
        name: (out_a.get(name), out_b.get(name))
        for name in dict.fromkeys([*out_a, *out_b])
        if out_a.get(name) != out_b.get(name)
    }
    return Difference((a.label, b.label), parameters, fields, outputs)
