"""Views as tables: pandas DataFrames, a readable text listing, compact HTML for Jupyter."""

from __future__ import annotations

import difflib
import html
import json
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from . import keys
from .record import STATUS_TAGS, Record

if TYPE_CHECKING:
    import pandas

#: The columns every DataFrame has, before the parameters.
COLUMNS = (
    "label",
    "task",
    "timestamp",
    "duration",
    "status",
    "tags",
    "outcome",
    "reason",
    "version",
    "main_file",
)
#: Records shown by repr() and in Jupyter.
SHOWN = 10


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ConfigError(
            "Record tables need pandas, which is not installed. Install it with "
            "`pip install 'smttask[view]'` (or `pip install pandas`)."
        ) from None
    return pandas


def _columns(record: Record) -> dict[str, Any]:
    return {
        "label": record.label,
        "task": record.name,
        "timestamp": record.timestamp,
        "duration": record.duration,
        "status": record.status,
        "tags": tuple(sorted(record.user_tags)),
        "outcome": record.outcome,
        "reason": record.reason,
        "version": record.version,
        "main_file": record.main_file,
    }


def _params(record: Record, params: bool | Sequence[keys.Key]) -> dict[str, Any]:
    if params is True:
        flat = keys.flatten(record.params)
        return {(f"inputs.{k}" if k.split(".")[0] in COLUMNS else k): v for k, v in flat.items()}
    if params is False:
        return {}
    return {column(k): record.param(k, None) for k in params}


def column(key: keys.Key) -> str:
    """The column of parameter `key` (renamed if it would replace one of ``COLUMNS``)."""
    name = keys.show(key)
    if name.split(".")[0] not in COLUMNS:
        return name
    return f"params.{name}" if name.split(".")[0] in keys.FIELDS else f"inputs.{name}"


def dframe(records: Sequence[Record], params: bool | Sequence[keys.Key]) -> pandas.DataFrame:
    pd = _pandas()
    if isinstance(params, str):
        params = [params]
    rows = [{**_columns(r), **_params(r, params)} for r in records]
    names: dict[str, None] = dict.fromkeys(COLUMNS)
    if params is not True and params is not False:
        names.update(dict.fromkeys(column(k) for k in params))
    for row in rows:
        names.update(dict.fromkeys(row))
    frame = pd.DataFrame.from_records(rows, columns=list(names))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["duration"] = frame["duration"].astype(float)
    return frame


def summary(records: Sequence[Record]) -> pandas.DataFrame:
    pd = _pandas()
    counts = Counter((r.name, r.status or "unknown") for r in records)
    order = [*STATUS_TAGS.values(), "unknown"]
    statuses = [s for s in order if any(status == s for _, status in counts)]
    tasks = sorted({task for task, _ in counts})
    table = pd.DataFrame(
        [[counts.get((t, s), 0) for s in statuses] for t in tasks],
        index=pd.Index(tasks, name="task"),
        columns=statuses,
        dtype=int,
    )
    table["total"] = table.sum(axis=1).astype(int)
    return table


def _when(record: Record) -> str:
    return f"{record.timestamp:%Y-%m-%d %H:%M:%S}" if record.timestamp else ""


def _duration(record: Record) -> str:
    return "" if record.duration is None else f"{record.duration:.3g} s"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _statuses(records: Sequence[Record]) -> str:
    counts = Counter(r.status or "unknown" for r in records)
    return ", ".join(f"{n} {s}" for s, n in counts.most_common())


def text(title: str, records: Sequence[Record]) -> str:
    head = f"RSView of {title}: {len(records)} record{'s' if len(records) != 1 else ''}"
    if records:
        head += f" ({_statuses(records)})"
    lines = [head]
    width = max((len(r.label) for r in records[:SHOWN]), default=0)
    for r in records[:SHOWN]:
        tags = ",".join(sorted(r.user_tags))
        lines.append(
            f"  {r.label:<{width}}  {r.status or '?':<9} {_duration(r):>9}  "
            f"{tags + '  ' if tags else ''}{_cut(r.outcome, 50)}".rstrip()
        )
    if len(records) > SHOWN:
        lines.append(f"  … {len(records) - SHOWN} more (rs.list_labels(), rs.dframe())")
    return "\n".join(lines)


def html_table(title: str, records: Sequence[Record]) -> str:
    esc = html.escape
    head = f"<b>RSView</b> of {esc(title)}: {len(records)} record{'s' if len(records) != 1 else ''}"
    if records:
        head += f" ({esc(_statuses(records))})"
    cells = ("label", "task", "status", "tags", "time (UTC)", "duration", "outcome")
    rows = [
        (
            r.label,
            r.name,
            r.status,
            ", ".join(sorted(r.user_tags)),
            _when(r),
            _duration(r),
            _cut(r.outcome, 60),
        )
        for r in records[:SHOWN]
    ]
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{esc(str(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    more = ""
    if len(records) > SHOWN:
        more = f"<tr><td colspan='{len(cells)}'>… {len(records) - SHOWN} more</td></tr>"
    header = "".join(f"<th style='text-align:left'>{c}</th>" for c in cells)
    table = f"<table><thead><tr>{header}</tr></thead><tbody>{body}{more}</tbody></table>"
    return f"<div><p>{head}</p>{table if records else ''}</div>"


def describe(record: Record) -> str:
    """`record` as text, one field a line (long values wrapped), then its parameters under
    their dotted keys and its output files."""
    head = [
        ("label", record.label),
        ("task", record.taskname),
        ("status", record.status),
        ("tags", ", ".join(sorted(record.user_tags))),
        ("timestamp", f"{_when(record)} UTC"),
        ("duration", _duration(record)),
        ("reason", record.reason),
        ("outcome", record.outcome),
        ("version", record.version),
        ("main file", record.main_file),
        ("user", record.user),
    ]
    params = [(f"  {k}", _value(v)) for k, v in keys.flatten(record.params).items()]
    outputs = [
        (f"  {k.output or '(the output)'}", f"{k.path} (SHA-1 {k.digest})")
        for k in record.output_data
    ]
    rows = [
        *head,
        ("parameters", "" if params else "(none)"),
        *params,
        ("outputs", "" if outputs else "(none)"),
        *outputs,
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(line for name, value in rows for line in _field(name, value, width))


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=repr)


def _field(name: str, value: str, width: int) -> list[str]:
    text = value.splitlines() or [""]
    wrapped = [part for line in text for part in (textwrap.wrap(line, 100) or [""])]
    pad = " " * (width + 2)
    return [f"{name:<{width}}: {wrapped[0]}".rstrip()] + [pad + w for w in wrapped[1:]]


def not_found(
    where: str, label: str, labels: list[str], starting: list[str], left_out: bool
) -> str:
    """Why `label` names no record of the view `where` (`labels`: the view's labels,
    `starting`: those starting with `label`; `left_out`: the store has it, the filters
    leave it out)."""
    if starting:
        shown = ", ".join(starting[:5]) + (" …" if len(starting) > 5 else "")
        return (
            f"{len(starting)} records in {where} have labels starting with {label!r} "
            f"({shown}). Give more of the label."
        )
    text = f"No record labelled {label!r} in {where}."
    if left_out:
        text += " The store has it, but the view's filters leave it out."
    close = difflib.get_close_matches(label, labels, n=5, cutoff=0.6)
    if close:
        text += f" Close matches: {', '.join(close)}."
    else:
        text += " List the labels with rs.list_labels() (or `smttask smt list`)."
    return text
