"""The record-store contract (``smttask.recording.api``), run unchanged over every
implementation: Sumatra's Django store on SQLite and on PostgreSQL, and the in-memory store.

Each test gets a new, empty store. ``Impl.listed_tags`` reads a record's tags the way the
store's own tools list them (for Sumatra: its tagging tables, which ``smt list TAG`` and
``smtweb`` read, rather than the ``tags`` column the queries read).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from smttask.errors import RecordingError
from smttask.recording.api import (
    AnyOf,
    Condition,
    RecordRow,
    RecordStore,
    Where,
    find,
    parameters_text,
    task_condition,
)
from smttask.recording.memory import MemoryStore
from smttask.recording.projectfile import ProjectInfo

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class Impl:
    store: RecordStore
    listed_tags: Callable[[str], set[str]]  # a record's tags, as the store's own tools list them
    tag_natively: Callable[[str, str], None]  # add a tag, as the store's own tools do
    concurrency: str  # what the implementation promises: "processes" or "threads"
    listed_text: Callable[[str, str], str]  # a record's text field, as the store's tools show it


def _info(tmp_path: Path, kind: str, address: str) -> ProjectInfo:
    data = tmp_path / "data"
    return ProjectInfo(tmp_path, "contract", address, kind, data, data / "run_dump", ())


def _django(info: ProjectInfo) -> Impl:
    from smttask.recording.django import DjangoStore

    store = DjangoStore(info)

    def smt_tag(label: str, tag: str) -> None:  # what `smt tag TAG LABEL` does
        sumatra = store.sumatra_store()
        found = sumatra.get(info.name, label)
        found.tags.add(tag)
        sumatra.save(info.name, found)

    def smt_text(label: str, field: str) -> str:  # what `smt list -l` shows
        return str(getattr(store.store_record(label), field))

    return Impl(
        store, lambda label: set(store.store_record(label).tags), smt_tag, "processes", smt_text
    )


KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "memory"]


def _impl(kind: str, folder: Path, dsn: Callable[[], str]) -> Impl:
    if kind == "sqlite":
        return _django(_info(folder, "sqlite", str(folder / "records")))
    if kind == "postgresql":
        return _django(_info(folder, "postgresql", dsn()))
    store = MemoryStore(_info(folder, "memory", ""))

    def tag(label: str, tag: str) -> None:
        store.edit_tags([label], add=[tag])

    def text(label: str, field: str) -> str:
        return str(store.store_record(label)[field])

    return Impl(store, lambda label: set(store.store_record(label)["tags"]), tag, "threads", text)


@pytest.fixture(params=KINDS)
def impl(request: pytest.FixtureRequest, tmp_path: Path) -> Impl:
    """A new, empty store."""
    return _impl(request.param, tmp_path, lambda: request.getfixturevalue("postgres_dsn"))


@pytest.fixture(scope="module", params=KINDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Impl]:
    """A store holding DATA, for tests that only read."""
    databases = []

    def dsn() -> str:
        databases.append(request.getfixturevalue("postgres_server").createdb())
        return databases[-1]

    found = _impl(request.param, tmp_path_factory.mktemp("loaded"), dsn)
    found.store.write(DATA)
    yield found
    for database in databases:
        request.getfixturevalue("postgres_server").dropdb(database.rsplit("/", 1)[1])


def key(path: str, digest: str = "ab" * 20, output: str = "") -> dict[str, object]:
    return {
        "path": path,
        "digest": digest,
        "creation": "2026-03-01T12:00:05+00:00",
        "metadata": {"encoding": None, "mimetype": "application/json", "size": 3, "output": output},
    }


#: A record with every field, as every store gives it back.
FULL = {
    "label": "20260301-120000_analyze_0c5d77e1",
    "timestamp": "2026-03-01T12:00:00.250000+00:00",
    "reason": "first look",
    "duration": 0.5,
    "outcome": "ValueError: ünïcode, 'quotes' and \"more\"",
    "main_file": "tasks.py",
    "version": "0123456789abcdef0123456789abcdef01234567",
    "script_arguments": "tasks.analyze",
    "parameters": {"smttask_format": 1, "task": "analyze", "inputs": {"dt": 0.5, "n": [1, 2]}},
    "tags": ["_finished_", "paper"],
    "diff": "--- a/notes.md\n+++ b/notes.md\n",
    "user": "Ada <ada@example.org>",
    "stdout_stderr": "averaging 3 values\n",
    "repeats": None,
    "executable": {"path": "/usr/bin/python3", "name": "Python", "version": "3.11.7", "options": ""},
    "repository": {"url": "/home/ada/project", "upstream": "git@example.org:ada/project.git"},
    "launch_mode": {"working_directory": "/home/ada/project"},
    "datastore": "/home/ada/project/data/run_dump",
    "input_datastore": "/home/ada/project/data",
    "output_data": [key("analyze/0c5d_mean.json", output="mean"), key("analyze/0c5d_n.json", "cd" * 20, "n")],
    "input_data": [key("square/77e1.json", "ef" * 20)],
    "dependencies": [
        {"name": "numpy", "path": "/site/numpy", "version": "2.0.1", "diff": "", "source": None}
    ],
    "platforms": [
        {
            "architecture_bits": "64bit",
            "architecture_linkage": "ELF",
            "machine": "x86_64",
            "network_name": "node1",
            "ip_addr": "127.0.0.1",
            "processor": "Intel",
            "release": "6.1",
            "system_name": "Linux",
            "version": "#1 SMP",
        }
    ],
}  # fmt: skip


def record(label: str, when: datetime, **fields: object) -> dict[str, object]:
    return {"label": label, "timestamp": when.isoformat(), **fields}


def labels(rows: object) -> list[str]:
    return [r.label for r in rows]  # type: ignore[attr-defined]


def test_every_field_is_read_back_as_written(impl: Impl) -> None:
    store = impl.store
    store.write([FULL])
    assert store.record(FULL["label"]) == FULL
    [row] = store.query()
    assert row == RecordRow(
        label=FULL["label"],
        timestamp=datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC),
        duration=0.5,
        tags=frozenset({"_finished_", "paper"}),
        outcome=FULL["outcome"],
        reason="first look",
        version=FULL["version"],
        main_file="tasks.py",
        script_arguments="tasks.analyze",
        user=FULL["user"],
        parameters=parameters_text(FULL["parameters"]),
    )
    assert row.timestamp.utcoffset() == timedelta(0)
    for field in ("stdout_stderr", "diff", "outcome", "parameters"):
        assert store.text(FULL["label"], field) == (
            row.parameters if field == "parameters" else FULL[field]
        )
    assert [(k.path, k.digest, k.creation, k.metadata) for k in store.outputs(FULL["label"])] == [
        (k["path"], k["digest"], k["creation"], k["metadata"]) for k in FULL["output_data"]
    ]
    assert store.labels() == [FULL["label"]]
    assert impl.listed_tags(FULL["label"]) == {"_finished_", "paper"}
    assert store.store_record(FULL["label"]) is not None
    assert store.record("nothing") is None and store.text("nothing", "outcome") == ""
    with pytest.raises(RecordingError, match="No record labelled 'nothing'"):
        store.store_record("nothing")
    with pytest.raises(RecordingError, match="not a text field"):
        store.text(FULL["label"], "timestamp")


def test_missing_fields_read_back_with_their_defaults(impl: Impl) -> None:
    impl.store.write([{"label": "bare", "timestamp": "2026-03-01T13:00:00+01:00"}])
    assert impl.store.record("bare") == {
        "label": "bare",
        "timestamp": "2026-03-01T12:00:00+00:00",  # kept in UTC
        "reason": "",
        "duration": None,
        "outcome": "",
        "main_file": "",
        "version": "",
        "script_arguments": "",
        "parameters": {},
        "tags": [],
        "diff": "",
        "user": "",
        "stdout_stderr": "",
        "repeats": None,
        "executable": {"path": "", "name": "Python", "version": "", "options": ""},
        "repository": {"url": "", "upstream": None},
        "launch_mode": {"working_directory": None},
        "datastore": "",
        "input_datastore": "",
        "output_data": [],
        "input_data": [],
        "dependencies": [],
        "platforms": [],
    }


def test_a_record_with_a_stored_label_replaces_it(impl: Impl) -> None:
    store = impl.store
    first = record("r1", T0, tags=["_running_", "x"], output_data=[key("t/a.json")])
    other = record("r2", T0 + HOUR, tags=["_finished_"], output_data=[key("t/b.json")])
    store.write([first, other])
    again = record("r1", T0 + 2 * HOUR, tags=["_finished_"], outcome="done",
                   output_data=[key("t/c.json")])  # fmt: skip
    store.write([again])
    store.write([again])  # writing the same record twice is harmless
    assert store.labels() == ["r1", "r2"]  # one record per label; r1 is newer now
    [row] = store.query([Where("label", "eq", "r1")])
    assert (row.tags, row.outcome) == (frozenset({"_finished_"}), "done")
    assert impl.listed_tags("r1") == {"_finished_"}
    assert [k.path for k in store.outputs("r1")] == ["t/c.json"]
    assert sorted(k.path for _, k in store.output_index()) == ["t/b.json", "t/c.json"]


def test_a_batch_with_a_bad_record_stores_nothing(impl: Impl) -> None:
    with pytest.raises(RecordingError, match="needs a label"):
        impl.store.write([record("good", T0), {"timestamp": T0.isoformat()}])
    assert impl.store.labels() == []


def test_tags_are_added_and_removed_where_queries_and_the_stores_tools_see_them(
    impl: Impl,
) -> None:
    store = impl.store
    store.write([record(f"r{i}", T0 + i * HOUR, tags=["_finished_"]) for i in range(3)])
    new = store.edit_tags(["r0", "r1", "missing"], add=("paper", "fig-2"))
    assert new == {"r0": {"_finished_", "paper", "fig-2"}, "r1": {"_finished_", "paper", "fig-2"}}
    assert impl.listed_tags("r0") == {"_finished_", "paper", "fig-2"}
    assert labels(store.query([Where("tags", "has", "paper")])) == ["r1", "r0"]
    assert store.edit_tags(["r1"], remove=("paper", "absent")) == {"r1": {"_finished_", "fig-2"}}
    assert impl.listed_tags("r1") == {"_finished_", "fig-2"}
    assert labels(store.query([Where("tags", "has", "paper")])) == ["r0"]
    assert store.edit_tags(["r2"], add=("a",), remove=("a",)) == {"r2": {"_finished_", "a"}}
    assert store.edit_tags(["r2"]) == {"r2": {"_finished_", "a"}}  # nothing to change
    for bad in ("two words", "a,b", 'q"', "", "x" * 51):
        with pytest.raises(RecordingError):
            store.edit_tags(["r0"], add=("ok", bad))
    assert impl.listed_tags("r0") == {"_finished_", "paper", "fig-2"}  # nothing changed


def test_tags_added_by_the_stores_own_tools_are_read_too(impl: Impl) -> None:
    impl.store.write([
        record("r0", T0, tags=["_finished_"], parameters={"x": 0}),
        record("r1", T0 + HOUR, parameters={"x": 1}),
    ])  # fmt: skip
    impl.tag_natively("r0", "checked")
    assert labels(find(impl.store, [Where("tags", "has", "checked")])) == ["r0"]
    assert impl.store.edit_tags(["r0"], remove=["checked"]) == {"r0": {"_finished_"}}
    assert impl.listed_tags("r0") == {"_finished_"}


def test_sumatras_own_save_of_records_with_equal_parameters_and_inputs(impl: Impl) -> None:
    """Records of one task computed twice share their parameters and inputs: Sumatra's own
    save (``smt tag``, ``smt comment``, smtweb edits) finds one row for each, as it expects."""
    params = {"task": "square", "inputs": {"x": 1}}
    inputs = [key("up/77e1.json", "ef" * 20)]
    twins = [
        record("r0", T0, parameters=params, input_data=inputs, output_data=[key("sq/a.json")]),
        record("r1", T0 + HOUR, parameters=params, input_data=inputs,
               output_data=[key("sq/a.1.json", "cd" * 20)]),
    ]  # fmt: skip
    impl.store.write(twins[:1])
    impl.store.write(twins[1:])  # another batch, later
    impl.store.write([record("r2", T0 + 2 * HOUR, parameters=params, input_data=inputs * 2)])
    for label in ("r0", "r1", "r2"):
        impl.tag_natively(label, "checked")
        assert "checked" in impl.listed_tags(label)
    assert labels(find(impl.store, [Where("tags", "has", "checked")])) == ["r2", "r1", "r0"]
    for label in ("r0", "r1"):
        got = impl.store.record(label)
        assert got is not None and (got["parameters"], got["input_data"]) == (params, inputs)


def test_outcome_and_reason_are_changed_where_queries_and_the_stores_tools_see_them(
    impl: Impl,
) -> None:
    store = impl.store
    store.write([
        record("r0", T0, outcome="done", reason="first look", tags=["_finished_"],
               output_data=[key("t/a.json")]),
        record("r1", T0 + HOUR, outcome="", reason=""),
    ])  # fmt: skip
    before = store.record("r0")
    assert store.update_fields("r0", outcome="done\nchecked") == {"outcome": "done\nchecked"}
    assert store.update_fields("r0", reason=lambda old: "[rerun] " + old) == {
        "reason": "[rerun] first look"
    }
    both = store.update_fields("r1", outcome=lambda old: old + "ok", reason="why")
    assert both == {"outcome": "ok", "reason": "why"}
    assert store.record("r0") == {
        **before,
        "outcome": "done\nchecked",
        "reason": "[rerun] first look",
    }
    assert (impl.listed_text("r0", "outcome"), impl.listed_text("r0", "reason")) == (
        "done\nchecked",
        "[rerun] first look",
    )
    assert store.text("r0", "outcome") == "done\nchecked"
    assert labels(find(store, [Where("outcome", "contains", "checked")])) == ["r0"]
    assert labels(find(store, [Where("reason", "eq", "why")])) == ["r1"]
    [row] = store.query([Where("label", "eq", "r0")])
    assert (row.outcome, row.reason, row.tags) == (
        "done\nchecked",
        "[rerun] first look",
        frozenset({"_finished_"}),
    )
    assert store.update_fields("missing", outcome="x") is None
    assert store.update_fields("r1") == {}  # nothing to change
    assert store.update_fields("r1", outcome="ok") == {"outcome": "ok"}  # the same text again
    with pytest.raises(RecordingError, match="reason is text"):
        store.update_fields("r0", outcome="changed?", reason=lambda old: 3)  # type: ignore[arg-type,return-value]
    with pytest.raises(ZeroDivisionError):  # the function's own error
        store.update_fields("r0", outcome=lambda old: str(1 / 0))
    assert store.text("r0", "outcome") == "done\nchecked"  # nothing changed


FIELD_WRITER = """
import sys
from pathlib import Path
from smttask.recording.django import DjangoStore
from smttask.recording.projectfile import ProjectInfo
kind, address, name, worker = sys.argv[1:]
here = Path(".")
store = DjangoStore(ProjectInfo(here, name, address, kind, here, here, ()))
for i in range(5):
    store.update_fields("shared", reason=lambda old: old + f"<{worker}-{i}>")
"""


def test_concurrent_changes_of_one_field_lose_none(impl: Impl) -> None:
    store, info = impl.store, impl.store.info
    store.write([record("shared", T0)])
    if impl.concurrency == "processes":
        args = [info.kind, info.store, info.name]
        procs = [
            subprocess.Popen([sys.executable, "-c", FIELD_WRITER, *args, str(w)]) for w in range(4)
        ]
        assert [p.wait() for p in procs] == [0] * 4
        workers, each = 4, 5
    else:
        workers, each = 8, 50

        def change(worker: int) -> None:
            for i in range(each):
                store.update_fields("shared", reason=lambda old, i=i: old + f"<{worker}-{i}>")

        threads = [threading.Thread(target=change, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    reason = store.text("shared", "reason")
    pieces = sorted(reason.strip("<>").split("><"))
    assert pieces == sorted(f"{w}-{i}" for w in range(workers) for i in range(each))


#: Five records, newest last, for the condition tests (labelled 1 to 5 by their prefix).
DATA = [
    record("1_square_a", T0, script_arguments="tasks.square", tags=["_finished_", "fig-2"],
           reason="first", parameters={"task": "square", "inputs": {"x": 1}}),
    record("2_analyze_b", T0 + HOUR, script_arguments="tasks.analyze", outcome="mean 0.5",
           tags=["_finished_", "paper"], reason="Analyze it",
           parameters={"task": "analyze", "inputs": {"dt": 0.5}}),
    record("3_analyze_c", T0 + 21 * HOUR, script_arguments="other.analyze", outcome="50%_done",
           tags=["_finished_", "paper", "fig"], parameters={"inputs": {"dt": 0.25}}),
    record("4_reanalyze_d", T0 + 36 * HOUR, script_arguments="tasks.reanalyze",
           tags=["_crashed_"], outcome="ValueError: bad x=3", user="ada"),
    record("5_fail_e", T0 + 31 * 24 * HOUR, script_arguments="fail", tags=["_killed_"],
           outcome="ANALYZE later", user="a*b?[c]"),
]  # fmt: skip
PLUS_ONE = timezone(timedelta(hours=1))
CONDITIONS: list[tuple[list[Condition], str]] = [
    ([Where("label", "eq", "2_analyze_b")], "2"),
    ([Where("label", "eq", "2_ANALYZE_B")], ""),
    ([Where("label", "in", ["1_square_a", "3_analyze_c", "nope"])], "13"),
    ([Where("outcome", "contains", "analyze")], ""),  # case matters
    ([Where("outcome", "contains", "ANALYZE")], "5"),
    ([Where("outcome", "contains", "%_")], "3"),  # no wildcards
    ([Where("user", "contains", "*b?[")], "5"),
    ([Where("user", "contains", "ab")], ""),
    ([Where("user", "endswith", "[c]")], "5"),
    ([Where("user", "endswith", "?[c")], ""),
    ([Where("outcome", "contains", "")], "12345"),
    ([Where("script_arguments", "endswith", ".analyze")], "23"),
    ([Where("script_arguments", "endswith", "analyze")], "234"),
    ([Where("script_arguments", "endswith", "ANALYZE")], ""),
    ([task_condition("analyze")], "23"),
    ([task_condition("tasks.analyze")], "2"),
    ([task_condition("square", "fail")], "15"),
    ([Where("label", "regex", r"_(square|fail)_")], "15"),
    ([Where("label", "regex", r"^[23]_")], "23"),
    ([Where("label", "regex", "SQUARE")], ""),
    ([Where("outcome", "regex", r"x=\d$")], "4"),
    ([Where("reason", "regex", r"(?i)^analyze")], "2"),  # Python's dialect
    ([Where("timestamp", "gte", T0 + HOUR)], "2345"),
    ([Where("timestamp", "lt", T0 + HOUR)], "1"),
    ([Where("timestamp", "gte", T0 + HOUR), Where("timestamp", "lt", T0 + 36 * HOUR)], "23"),
    ([Where("timestamp", "gte", datetime(2026, 3, 1, 14, tzinfo=PLUS_ONE))], "2345"),
    ([Where("tags", "has", "paper")], "23"),
    ([Where("tags", "has", "fig")], "3"),  # not fig-2
    ([Where("tags", "has", "_finished_")], "123"),
    ([AnyOf((Where("tags", "has", "_crashed_"), Where("tags", "has", "_killed_")))], "45"),
    ([AnyOf(())], ""),
    ([Where("parameters", "contains", '"dt": 0.5')], "2"),
    ([Where("parameters", "contains", '"x": 1')], "1"),
    ([Where("reason", "eq", "")], "345"),
    ([Where("reason", "eq", "analyze it")], ""),
    ([Where("user", "eq", "ada")], "4"),
    ([task_condition("analyze"), Where("tags", "has", "fig")], "3"),
    ([], "12345"),
]


@pytest.mark.parametrize("conditions, expected", CONDITIONS, ids=[str(c) for c, _ in CONDITIONS])
def test_each_condition_selects_exactly_what_it_says(
    loaded: Impl, conditions: list[Condition], expected: str
) -> None:
    store = loaded.store
    newest_first = sorted(expected, reverse=True)
    assert [x.split("_")[0] for x in labels(find(store, conditions))] == newest_first
    if all(store.native(c) for c in conditions):
        assert labels(store.query(conditions)) == labels(find(store, conditions))
    else:
        with pytest.raises(RecordingError, match="cannot evaluate"):
            list(store.query(conditions))


def test_the_django_stores_evaluate_what_their_database_can() -> None:
    from smttask.recording.django.query import native

    regex = Where("label", "regex", "x")
    assert native("sqlite", regex) and not native("postgresql", regex)
    assert not native("postgresql", AnyOf((Where("label", "eq", "x"), regex)))
    assert all(native(kind, task_condition("a")) for kind in ("sqlite", "postgresql", "mysql"))


def test_conditions_refuse_what_no_store_could_evaluate() -> None:
    for field, op, value in [
        ("duration", "eq", 1.0),  # not a field conditions reach
        ("label", "gte", "a"),  # not an operation on text
        ("tags", "eq", "x"),
        ("timestamp", "gte", datetime(2026, 1, 1)),  # no time zone
        ("label", "eq", 3),
        ("label", "in", ["a", 3]),
        ("label", "regex", "("),
    ]:
        with pytest.raises(RecordingError):
            Where(field, op, value)
    assert Where("label", "in", ["a", "b"]).value == ("a", "b")  # hashable


def test_records_come_newest_first_then_in_the_order_stored(impl: Impl) -> None:
    store = impl.store
    store.write([record("b", T0), record("c", T0 + HOUR), record("a", T0)])
    store.write([record("d", T0)])
    assert labels(store.query()) == ["c", "d", "a", "b"] == store.labels()
    assert labels(store.query(newest_first=False)) == ["b", "a", "d", "c"]


def test_queries_read_in_chunks_of_any_size(impl: Impl) -> None:
    store = impl.store
    store.write([record(f"r{i:02}", T0 + i * HOUR) for i in range(23)])
    expected = [f"r{i:02}" for i in reversed(range(23))]
    for size in (1, 2, 7, 500):
        assert labels(store.query(chunk_size=size)) == expected
    rows = store.query(chunk_size=3)
    first = next(rows)  # read before the rest
    store.write([record("later", T0 - HOUR)])
    assert [first.label, *labels(rows)][:23] == expected


def test_outputs_of_a_record_and_the_index_of_every_output(impl: Impl) -> None:
    store = impl.store
    store.write([
        record("old", T0, output_data=[key("t/k_b.json", output="b"), key("t/k_a.json", output="a")]),
        record("new", T0 + HOUR, output_data=[key("t/k_b.json", "ee" * 20, "b")]),
        record("none", T0 + 2 * HOUR),
    ])  # fmt: skip
    assert [(k.path, k.metadata["output"]) for k in store.outputs("old")] == [
        ("t/k_b.json", "b"),
        ("t/k_a.json", "a"),
    ]
    assert store.outputs("none") == [] and store.outputs("missing") == []
    index = [(label, k.path) for label, k in store.output_index()]
    assert index[0] == ("new", "t/k_b.json") and sorted(index[1:]) == [
        ("old", "t/k_a.json"),
        ("old", "t/k_b.json"),
    ]
    shared = [(label, k.digest) for label, k in store.output_index(["t/k_b.json", "t/x.json"])]
    assert shared == [("new", "ee" * 20), ("old", "ab" * 20)]
    assert list(store.output_index([])) == []


def test_the_index_of_every_input_by_content_digest(impl: Impl) -> None:
    store = impl.store
    up, other = "ab" * 20, "cd" * 20
    store.write([
        record("old", T0, input_data=[key("t/a.json", up, "a"), key("t/b.json", other)]),
        record("new", T0 + HOUR, input_data=[key("t/a.json", up, "a")]),
        record("none", T0 + 2 * HOUR, output_data=[key("t/a.json", up)]),
    ])  # fmt: skip
    index = [(label, k.path, k.digest) for label, k in store.input_index()]
    assert index == [
        ("new", "t/a.json", up),
        ("old", "t/a.json", up),
        ("old", "t/b.json", other),
    ]  # newest record first, a record's inputs in the order written; outputs are not inputs
    found = [(label, k.path, k.metadata["output"]) for label, k in store.input_index([up])]
    assert found == [("new", "t/a.json", "a"), ("old", "t/a.json", "a")]
    assert list(store.input_index([])) == [] and list(store.input_index(["ee" * 20])) == []


def test_deleting_records_removes_them_with_their_outputs_and_tags(impl: Impl) -> None:
    store = impl.store
    store.write([
        record("a", T0, tags=["_finished_", "gone"], output_data=[key("t/a.json")]),
        record("b", T0 + HOUR, tags=["_finished_", "gone"], output_data=[key("t/b.json")]),
        record("c", T0 + 2 * HOUR, tags=["_finished_"], output_data=[key("t/a.json")]),
    ])  # fmt: skip
    assert store.delete(["a", "b", "missing"]) == 2
    assert store.labels() == ["c"] and store.record("a") is None
    assert [(label, k.path) for label, k in store.output_index()] == [("c", "t/a.json")]
    assert labels(find(store, [Where("tags", "has", "gone")])) == []
    assert impl.listed_tags("c") == {"_finished_"}
    assert store.delete([]) == 0
    store.write([record("a", T0)])  # the label can be used again
    assert store.labels() == ["c", "a"]


def test_moved_outputs_are_recorded_in_every_record_naming_them(impl: Impl) -> None:
    store = impl.store
    store.write([
        record("a", T0, output_data=[key("t/k.json"), key("t/k_x.json", output="x")]),
        record("b", T0 + HOUR, output_data=[key("t/k.json")]),
        record("c", T0 + 2 * HOUR, output_data=[key("t/other.json")]),
    ])  # fmt: skip
    assert store.move_outputs({"t/k.json": "t/k.invalid.json", "t/none.json": "t/y.json"}) == 2
    assert [k.path for k in store.outputs("a")] == ["t/k.invalid.json", "t/k_x.json"]
    assert [k.path for k in store.outputs("b")] == ["t/k.invalid.json"]
    assert [k.path for k in store.outputs("c")] == ["t/other.json"]
    assert store.record("b")["output_data"][0]["path"] == "t/k.invalid.json"  # type: ignore[index]
    assert store.move_outputs({}) == 0


WRITER = """
import sys
from pathlib import Path
from smttask.recording.django import DjangoStore
from smttask.recording.projectfile import ProjectInfo
kind, address, name, worker = sys.argv[1:]
here = Path(".")
store = DjangoStore(ProjectInfo(here, name, address, kind, here, here, ()))
for i in range(5):
    label = f"w{worker}-{i}"
    store.write([{"label": label, "timestamp": "2026-01-01T00:00:00+00:00", "tags": ["_finished_"]}])
    store.edit_tags([label], add=[f"by{worker}"])
"""


def test_concurrent_writers_lose_no_record(impl: Impl) -> None:
    store, info = impl.store, impl.store.info
    if impl.concurrency == "processes":
        args = [info.kind, info.store, info.name]
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, *args, str(w)]) for w in range(4)]
        assert [p.wait() for p in procs] == [0] * 4
        workers = 4
    else:
        workers = 8

        def write(worker: int) -> None:
            for i in range(50):
                label = f"w{worker}-{i}"
                store.write([record(label, T0, tags=["_finished_"])])
                store.edit_tags([label], add=[f"by{worker}"])

        threads = [threading.Thread(target=write, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    found = store.labels()
    per_worker = 5 if impl.concurrency == "processes" else 50
    assert len(found) == len(set(found)) == workers * per_worker
    for row in store.query():
        assert row.tags == {"_finished_", f"by{row.label[1:].split('-')[0]}"}
