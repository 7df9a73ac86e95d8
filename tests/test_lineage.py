"""Lineage: the results a record read, the records that produced them, back to the raw
inputs (`smttask store lineage`, `record.parents` / `record.children`, PROV-JSON)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from smttask import RSView
from smttask.cli import cli
from smttask.recording.lineage import children, lineage, parents, used
from smttask.recording.lineage_export import render, to_json, to_prov
from smttask.recording.memory import MemoryStore
from smttask.recording.projectfile import ProjectInfo
from smttask.recording.store import open_store

TASKS = """
from smttask import MemoizedTask, RecordedIterativeTask, RecordedTask, TaskOutput


@RecordedTask
def first(x: int) -> int:
    return x + 1


@MemoizedTask
def twice(v: int) -> int:
    return 2 * v


@RecordedTask
def second(v: int) -> float:
    return v / 4


@RecordedTask
def third(v: float, w: int) -> float:
    return v * w


@RecordedTask
def both(a: int, b: int) -> int:
    return a + b


@RecordedTask
def plus(v: int) -> int:
    return v + 10


class State(TaskOutput):
    n: int
    x: float


@RecordedIterativeTask("n", map={"n": "start_n", "x": "x0"})
def walk(n: int, x0: float = 0.0, start_n: int = 0) -> State:
    x = x0
    for i in range(start_n, n):
        x = x + i
    return n, x
"""


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def tasks(smt_project):  # type: ignore[no-untyped-def]
    return smt_project.write_module("lin_tasks", TASKS)


def _by_task() -> dict[str, str]:
    return {
        r.script_arguments.rsplit(".", 1)[-1]: r.label
        for r in open_store().query(newest_first=False)
    }


def test_the_lineage_of_the_last_result_lists_the_chain_in_order(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    last = tasks.third(v=tasks.second(v=tasks.twice(v=tasks.first(x=2))), w=3)
    last.run()
    labels = _by_task()
    store = open_store()
    top = lineage(store, labels["third"])
    assert top.records() == [labels["third"], labels["second"], labels["first"]]
    assert top.inputs == {"v": "<second>", "w": "3"}
    [(read, middle)] = top.used
    assert read.role == "upstream" and read.producer == labels["second"]
    assert middle is not None and middle.inputs == {"v": "twice(v=<first>)"}  # memoized inline
    [(_, bottom)] = middle.used
    assert bottom is not None and bottom.inputs == {"x": "2"} and bottom.used == []

    file = Path(last.output_paths[""])
    result = invoke("store", "lineage", str(file))  # a result file: the record behind it
    assert result.exit_code == 0, result.output
    order = [result.output.index(labels[t]) for t in ("third", "second", "first")]
    assert order == sorted(order)
    assert "inputs: x=2" in result.output and "produced by" in result.output

    data = json.loads(invoke("store", "lineage", "--json", labels["third"][:-3]).output)
    chain = [data["label"]]
    while data["used"]:
        data = data["used"][0]["producer"]
        chain.append(data["label"])
    assert chain == [labels["third"], labels["second"], labels["first"]]


def test_parents_and_children_in_a_view(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    a, b = tasks.first(x=1), tasks.first(x=5)
    tasks.both(a=a, b=b).run()
    tasks.third(v=tasks.second(v=a), w=2).run()
    rs = RSView()
    [joined] = rs.filter.task("both")
    assert sorted(r.label for r in joined.parents) == sorted(
        r.label for r in rs.filter.task("first")
    )
    shared = next(r for r in rs.filter.task("first") if r.params["inputs"]["x"] == 1)
    consumers = {r.name for r in shared.children}
    assert consumers == {"both", "second"}
    assert joined.children == [] and shared.parents == []
    [lone] = rs.filter.task("third")
    assert [r.name for r in lone.parents] == ["second"]
    assert lone.lineage().records()[-1] == shared.label


def test_a_resumed_iteration_lists_the_iteration_it_started_from(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    tasks.walk(n=2).run()
    tasks.walk(n=5).run()
    store = open_store()
    newest, oldest = [r.label for r in store.query()]
    reads = used(store, newest)
    assert {u.role for u in reads} == {"resumed"} and {u.output for u in reads} == {"n", "x"}
    assert parents(store, newest) == [oldest] and children(store, oldest) == [newest]
    text = "\n".join(render(lineage(store, newest)))
    assert "resumed from walk/" in text and oldest in text


def test_a_diamond_shows_a_record_once_and_unrecorded_results_have_no_producer(
    smt_project, tasks
) -> None:  # type: ignore[no-untyped-def]
    from smttask import config

    shared = tasks.first(x=7)
    tasks.both(a=tasks.plus(v=shared), b=shared).run()  # reads `shared` twice over
    store = open_store()
    top = lineage(store, next(store.query()).label)
    # A record's inputs are a set (Sumatra stores them without an order): sorted by task.
    [(_, direct), (_, via_plus)] = sorted(top.used, key=lambda u: u[1].task if u[1] else "")
    assert via_plus is not None and direct is not None
    assert (direct.task, via_plus.task) == ("lin_tasks.first", "lin_tasks.plus")
    [(_, below_plus)] = via_plus.used
    assert below_plus is not None and below_plus.label == direct.label
    assert sorted([below_plus.repeated, direct.repeated]) == [False, True]  # expanded once
    assert "(shown above)" in "\n".join(render(top))
    assert len(top.records()) == 3

    config.settings.record = False
    try:
        tasks.first(x=8).run()  # computed with recording off
    finally:
        config.settings.record = True
    tasks.both(a=tasks.first(x=8), b=shared).run()
    store = open_store()  # moves the new record in
    top = lineage(store, next(store.query()).label)
    [(unrecorded, none), (_, node)] = sorted(top.used, key=lambda u: u[1] is not None)
    assert none is None and unrecorded.producers == ()
    assert node is not None and node.label == direct.label
    text = "\n".join(render(top))
    assert "no record produced it (computed without recording)" in text


def test_records_made_before_inputs_named_their_archive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    info = ProjectInfo(
        tmp_path, "old", "", "memory", tmp_path / "data", tmp_path / "data/run_dump", ()
    )
    store = MemoryStore(info)

    def key(path: str, digest: str) -> dict[str, object]:
        return {"path": path, "digest": digest, "creation": None, "metadata": {"size": 1}}

    up = {"label": "up", "timestamp": "2026-01-01T00:00:00+00:00", "tags": ["_finished_"],
          "output_data": [key("sq/cb3bb7a5e2dea7e0c8a5.1.json", "11" * 20)]}  # fmt: skip
    other = {"label": "other", "timestamp": "2026-01-01T00:00:01+00:00", "tags": ["_finished_"],
             "output_data": [key("cube/cb3bb7a5e2dea7e0c8a5.json", "11" * 20)]}  # same content, another task  # fmt: skip
    down = {"label": "down", "timestamp": "2026-01-01T00:00:02+00:00", "tags": ["_finished_"],
            "input_data": [key("sq/cb3bb7a5e2dea7e0c8a5.json", "11" * 20)]}  # fmt: skip
    store.write([up, other, down])
    assert parents(store, "down") == ["up"] and children(store, "up") == ["down"]
    assert children(store, "other") == []


def test_prov_json_structure(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    tasks.third(v=tasks.second(v=tasks.first(x=3)), w=2).run()
    tasks.walk(n=1).run()
    tasks.walk(n=3).run()
    labels = _by_task()
    info = open_store().info
    result = invoke("store", "lineage", "--prov", labels["third"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    check_prov(doc)
    assert set(doc["activity"]) == {f"record:{labels[t]}" for t in ("first", "second", "third")}
    assert len(doc["used"]) == 2 and len(doc["wasGeneratedBy"]) == 3
    for relation in doc["used"].values():  # what a record used is what another generated
        generated = [
            g for g in doc["wasGeneratedBy"].values() if g["prov:entity"] == relation["prov:entity"]
        ]
        assert len(generated) == 1 and generated[0]["prov:activity"] != relation["prov:activity"]
    outputs = {e["smttask:sha1"] for e in doc["entity"].values()}
    assert all(re.fullmatch("[0-9a-f]{40}", d) for d in outputs)
    assert doc["prefix"]["out"] == info.output_root.absolute().as_uri() + "/"

    walk = to_prov(
        lineage(open_store(), labels["walk"]),
        input_root=info.input_root,
        output_root=info.output_root,
    )
    check_prov(walk)
    assert {u["prov:role"] for u in walk["used"].values()} == {"smttask:resumed"}
    assert to_json(lineage(open_store(), labels["walk"]))["used"][0]["role"] == "resumed"


def check_prov(doc: dict) -> None:  # type: ignore[type-arg]
    """The rules of PROV-JSON (W3C member submission) that the document must follow."""
    allowed = {"prefix", "entity", "activity", "agent", "used", "wasGeneratedBy",
               "wasDerivedFrom", "wasAssociatedWith", "wasInformedBy", "bundle"}  # fmt: skip
    assert set(doc) <= allowed and {"prefix", "entity", "activity"} <= set(doc)
    prefixes = doc["prefix"]
    assert all(re.fullmatch(r"[A-Za-z_][\w.-]*", p) for p in prefixes)
    assert all(re.match(r"^[a-z][a-z0-9+.-]*:", uri) for uri in prefixes.values())
    known = {*prefixes, "prov", "xsd"}

    def qualified(name: str) -> None:
        prefix, sep, local = name.partition(":")
        assert sep and prefix in known and local, f"{name!r} is not a declared qualified name"

    for kind in ("entity", "activity"):
        for ident, attributes in doc[kind].items():
            qualified(ident)
            for attr, value in attributes.items():
                qualified(attr)
                assert isinstance(value, str | int | float | bool | dict | list)
    for activity in doc["activity"].values():
        start = datetime.fromisoformat(activity["prov:startTime"])
        end = datetime.fromisoformat(activity["prov:endTime"])
        assert start.tzinfo is not None and end >= start
    required = {"used": ("prov:activity", "prov:entity"),
                "wasGeneratedBy": ("prov:entity", "prov:activity")}  # fmt: skip
    for relation, (first, second) in required.items():
        for ident, record in doc.get(relation, {}).items():
            assert ident.startswith("_:") or ":" in ident
            assert record[first] in doc[first.removeprefix("prov:")], record
            assert record[second] in doc[second.removeprefix("prov:")], record
            for attr in record:
                qualified(attr)
