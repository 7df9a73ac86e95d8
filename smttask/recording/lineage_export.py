"""A lineage tree (``lineage.Node``) as text, as JSON data, and as W3C PROV-JSON.

PROV-JSON (https://www.w3.org/submissions/prov-json/): every record is an *activity*
(``record:<label>``, with its start and end time, task, commit and status); every file a
record produced or read is an *entity* (``out:<path in the output data store>``, or
``in:<path in the input data store>`` for a file read whose archive is unknown), with its
SHA-1; ``wasGeneratedBy`` links an output to its record, ``used`` links a record to what it
read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from .lineage import Node, Used

#: The namespace of smttask's own PROV attributes and of record identifiers.
NAMESPACE = "urn:smttask:"


def render(top: Node) -> list[str]:
    """The tree as lines of text: each record, its inputs, and below it what it read."""
    lines: list[str] = []
    # Work items: a line of text, or a record to show with the prefix of its lines.
    stack: list[str | tuple[Node, str]] = [(top, "")]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            lines.append(item)
            continue
        node, indent = item
        lines.append(indent + _headline(node))
        if node.repeated:
            continue
        if node.inputs:
            shown = ", ".join(f"{k}={v}" for k, v in node.inputs.items())
            lines.append(f"{indent}   inputs: {shown}")
        todo: list[str | tuple[Node, str]] = []
        for i, (used, producer) in enumerate(node.used):
            branch, more = ("└─ ", "   ") if i == len(node.used) - 1 else ("├─ ", "│  ")
            what = "resumed from" if used.role == "resumed" else "read"
            head = f"{indent}{branch}{what} {used.path} (sha1 {used.digest[:12]})"
            if producer is None:
                todo.append(head + ": no record produced it (computed without recording)")
            else:
                todo += [head + ", produced by", (producer, f"{indent}{more}   ")]
        stack.extend(reversed(todo))
    return lines


def _headline(node: Node) -> str:
    when = f"{node.timestamp:%Y-%m-%d %H:%M:%S} UTC"
    text = f"{node.label}  {node.task}  {node.status or '?'}  {when}  commit {node.version[:12]}"
    return text + ("  (shown above)" if node.repeated else "")


def to_json(top: Node) -> dict[str, Any]:
    """The tree as JSON-compatible data (``shown_above`` marks a record already expanded)."""
    done: dict[int, dict[str, Any]] = {}
    order: list[Node] = list(_walk(top))
    for node in reversed(order):  # children before their parents
        entry: dict[str, Any] = {
            "label": node.label,
            "task": node.task,
            "status": node.status,
            "timestamp": node.timestamp.isoformat(),
            "version": node.version,
        }
        if node.repeated:
            entry["shown_above"] = True
        else:
            entry["inputs"] = dict(node.inputs)
            entry["outputs"] = [
                {"path": o.path, "digest": o.digest, "output": o.metadata.get("output", "")}
                for o in node.outputs
            ]
            entry["used"] = [
                {
                    **_used_json(item),
                    "producer": None if producer is None else done[id(producer)],
                }
                for item, producer in node.used
            ]
        done[id(node)] = entry
    return done[id(top)]


def _used_json(item: Used) -> dict[str, Any]:
    return {
        "path": item.path,
        "digest": item.digest,
        "output": item.output,
        "role": item.role,
        "archive": item.archive,
        "producers": list(item.producers),
    }


def _walk(top: Node) -> Iterator[Node]:
    stack = [top]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(p for _, p in node.used if p is not None)


def to_prov(top: Node, *, input_root: Path, output_root: Path) -> dict[str, Any]:
    """The tree as a W3C PROV-JSON document."""
    doc: dict[str, Any] = {
        "prefix": {
            "smttask": NAMESPACE,
            "record": NAMESPACE + "record:",
            "out": Path(output_root).absolute().as_uri() + "/",
            "in": Path(input_root).absolute().as_uri() + "/",
        },
        "entity": {},
        "activity": {},
        "wasGeneratedBy": {},
        "used": {},
    }
    entities, activities = doc["entity"], doc["activity"]
    generated: set[tuple[str, str]] = set()
    for node in _walk(top):
        activity = f"record:{node.label}"
        if node.repeated:
            continue
        end = node.timestamp + timedelta(seconds=node.duration or 0.0)
        activities[activity] = {
            "prov:startTime": node.timestamp.isoformat(),
            "prov:endTime": end.isoformat(),
            "prov:label": node.task,
            "prov:type": "smttask:Record",
            "smttask:version": node.version,
            "smttask:status": node.status,
        }
        for out in node.outputs:
            entity = f"out:{out.path}"
            entities.setdefault(entity, _entity(out.path, out.digest, out.metadata.get("output")))
            if (entity, activity) not in generated:
                generated.add((entity, activity))
                doc["wasGeneratedBy"][f"_:g{len(generated)}"] = {
                    "prov:entity": entity,
                    "prov:activity": activity,
                }
        for item, _ in node.used:
            entity = f"out:{item.archive}" if item.archive else f"in:{item.path}"
            entities.setdefault(entity, _entity(item.path, item.digest, item.output))
            doc["used"][f"_:u{len(doc['used']) + 1}"] = {
                "prov:activity": activity,
                "prov:entity": entity,
                "prov:role": f"smttask:{item.role}",
            }
    return doc


def _entity(path: str, digest: str, output: Any) -> dict[str, Any]:
    return {
        "prov:type": "smttask:Result",
        "prov:label": path,
        "smttask:sha1": digest,
        "smttask:output": str(output or ""),
    }


__all__ = ["NAMESPACE", "render", "to_json", "to_prov"]
