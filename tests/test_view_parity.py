"""RSView and Record features SumatraTask users rely on, over real records made by running
tasks in a real Sumatra project (SQLite, PostgreSQL) and over the in-memory store.

Grouping (``splitby``), combining views (``|``, ``&``), parameters with tolerances and
against a reference record (``params(isclose=)``, ``match``), the other text, tag and output
filters, comments and reasons, export, and what a record tells about itself (its task's
code at its commit, how it differs from another, a description).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import textwrap

import pytest

from smttask import TaskExecutionError
from smttask.errors import RecordingError
from smttask.recording.memory import MemoryStore
from smttask.recording.store import open_store
from smttask.view import CodeNotFoundError, FilterError, RSView, keys
from smttask.view.paramsteps import isclose
from smttask.view.taskcode import function_source

TASKS = """
import random
from smttask import RecordedTask, TaskOutput


class Stats(TaskOutput):
    mean: float
    n: int


@RecordedTask
def square(x: int) -> int:
    return x * x


@RecordedTask
def analyze(arr: int, dt: float, nbins: int = 2) -> Stats:
    # the mean of the bins
    return {"mean": arr * dt, "n": nbins}


@RecordedTask
def talk(n: int) -> int:
    print(f"talking {n}")
    return n


@RecordedTask
def noisy(seed: int) -> float:
    return random.random()  # impure on purpose: each computation differs


@RecordedTask
def fail(x: int) -> int:
    raise ValueError(f"bad x={x}")
"""
ANALYZE = """@RecordedTask
def analyze(arr: int, dt: float, nbins: int = 2) -> Stats:
    # the mean of the bins
    return {"mean": arr * dt, "n": nbins}
"""


def labels(view) -> list[str]:  # type: ignore[no-untyped-def]
    return view.list_labels()


@pytest.fixture
def tasks(smt_project):  # type: ignore[no-untyped-def]
    """Three `analyze` on three `square`, one `talk` (it prints), one crashed `fail`."""
    mod = smt_project.write_module("parity_tasks", TASKS)
    for x, dt in [(1, 0.5), (2, 0.5), (3, 0.25)]:
        mod.analyze(arr=mod.square(x=x), dt=dt).run()
    mod.talk(n=3).run()
    with pytest.raises(TaskExecutionError):
        mod.fail(x=1).run(reason="to see a crash")
    return mod


def copy_into_memory() -> MemoryStore:
    """The project's records, copied into a store held in memory."""
    sqlite = open_store()
    memory = MemoryStore(sqlite.info)
    memory.write([sqlite.record(label) for label in reversed(sqlite.labels())])
    return memory


# -- grouping ---------------------------------------------------------------------------------


def test_splitby_groups_records_by_parameters(tasks) -> None:  # type: ignore[no-untyped-def]
    analyses = RSView().filter.task("analyze")
    by_dt = analyses.splitby("dt")
    assert [tuple(k) for k in by_dt] == [(0.25,), (0.5,)]  # ordered by value
    assert [k.dt for k in by_dt] == [0.25, 0.5]
    assert [sorted(r.param("arr.x") for r in v) for v in by_dt.values()] == [[3], [1, 2]]
    both = analyses.splitby(["dt", "arr.x"])
    assert [tuple(k) for k in both] == [(0.25, 3), (0.5, 1), (0.5, 2)]
    assert list(analyses.splitby(("dt", "arr.x"))) == list(both)  # a tuple lists keys too
    assert list(analyses.splitby([("arr", "x")])) == list(analyses.splitby("arr.x"))
    assert next(iter(both))._fields == ("dt", "x")
    # arr.x alone tells the groups apart: dt is dropped, unless told not to
    assert [tuple(k) for k in analyses.splitby(["arr.x", "dt"])] == [(1,), (2,), (3,)]
    kept = analyses.splitby(["arr.x", "dt"], drop_unused=False)
    assert [tuple(k) for k in kept] == [(1, 0.5), (2, 0.5), (3, 0.25)]
    [(only, view)] = analyses.splitby(["nbins", "arr.task"]).items()  # one value each
    assert tuple(only) == () and len(view) == 3
    named = analyses.splitby(["dt", "arr.x"], names=["step", "x"])
    assert next(iter(named))._fields == ("step", "x")
    # a group is a view: it filters further, and shows where it comes from
    group = by_dt[next(iter(by_dt))]
    assert labels(group.filter.params(eq={"arr.x": 3})) == labels(group)
    assert "selection of 1 records" in repr(group)
    everything = RSView().splitby("dt", names=["dt"])
    assert list(everything)[-1] == (keys.MISSING,)  # records without dt come last
    assert len(everything[(keys.MISSING,)]) == 5  # squares, talk, fail
    with pytest.raises(FilterError, match="not all different"):
        analyses.splitby(["x", "arr.x"])
    with pytest.raises(FilterError, match="one name per key"):
        analyses.splitby(["dt"], names=["a", "b"])


def test_splitby_never_merges_values_python_counts_as_equal(smt_project) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module(
        "loose_tasks",
        """
        from typing import Any
        from smttask import RecordedTask

        @RecordedTask
        def keep(v: Any) -> int:
            return 0
        """,
    )
    for value in (1, 1.0, True, [1, 2]):
        mod.keep(v=value).run()
    rs = RSView()
    assert len(rs) == 4
    with pytest.raises(FilterError, match="Python counts as equal"):
        rs.splitby("v")
    [(key, group)] = rs.filter.params(eq={"v": [1, 2]}).splitby("v", drop_unused=False).items()
    assert key == ((1, 2),) and len(group) == 1  # a list becomes a tuple


# -- combining --------------------------------------------------------------------------------


def test_views_combine_into_unions_and_intersections(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    squares, ones = rs.filter.task("square"), rs.filter.params(eq={"x": 1})
    either, both = squares | ones, squares & ones
    tasks.square(x=10).run()  # after the views were made: they read it
    every = RSView()
    assert labels(either) == [r.label for r in every if r in squares or r in ones]
    assert [r.name for r in either].count("square") == 4 and "fail" in {r.name for r in either}
    assert labels(both) == [r.label for r in every if r.name == "square" and r.param("x") == 1]
    assert labels(squares.join(ones)) == labels(either)
    assert labels(either.filter.status("crashed")) == labels(rs.filter.task("fail"))
    assert labels(RSView().filter.task("talk") | RSView().filter.task("fail")) == labels(
        rs.filter.task("talk", "fail")
    )
    assert labels(either | squares) == labels(either)  # each record once
    assert "(project 'test' (task('square'))) | (project 'test' (params(" in repr(either)
    with pytest.raises(FilterError, match="with another view"):
        _ = squares | 3
    memory = RSView(store=copy_into_memory())
    with pytest.raises(FilterError, match="different record stores"):
        _ = squares | memory
    with pytest.raises(FilterError, match="different record stores"):
        _ = memory & RSView(store=copy_into_memory())  # same records, another store
    assert labels(memory.filter.task("square") | memory.filter.params(eq={"x": 1})) == labels(
        either
    )


# -- parameters -------------------------------------------------------------------------------


def test_params_isclose_compares_numbers_with_a_tolerance(tasks) -> None:  # type: ignore[no-untyped-def]
    tasks.analyze(arr=tasks.square(x=4), dt=0.1 + 0.2).run()  # 0.30000000000000004
    tasks.analyze(arr=tasks.square(x=4), dt=0.3).run()
    rs = RSView()
    assert len(rs.filter.params(eq={"dt": 0.3})) == 1
    assert len(rs.filter.params(isclose={"dt": 0.3})) == 2
    assert len(rs.filter.params(isclose={"dt": 0.3003})) == 0  # beyond 1e-5 relative
    assert len(rs.filter.params(isclose={"dt": 0.3003}, rtol=1e-3)) == 2
    assert len(rs.filter.params(isclose={"dt": 0.26}, atol=0.05)) == 3  # 0.25, twice 0.3
    assert len(rs.filter.params(isclose={"arr.x": 4})) == 2  # integers too
    assert len(rs.filter.params(isclose={"arr.task": 4})) == 0  # text is never close
    assert "rtol=0.001" in rs.filter.params(isclose={"dt": 0.3}, rtol=1e-3).filters[0]
    assert isclose([1.0, 2.0], [1.0, 2.000001]) and not isclose([1.0], [1.0, 2.0])
    assert isclose(float("inf"), float("inf")) and not isclose(float("nan"), float("nan"))
    assert not isclose(True, 1) and not isclose(1e-9, 0.0, atol=0)


def test_match_keeps_records_whose_parameters_match_a_reference(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    ref = rs.filter.task("analyze").filter.params(eq={"arr.x": 1}).latest
    assert sorted(r.param("arr.x") for r in rs.filter.match(ref, ["dt"])) == [1, 2]
    assert labels(rs.filter.match(ref, ["dt"], include_reference=False)) == labels(
        rs.filter.params(eq={"dt": 0.5, "arr.x": 2})
    )
    assert labels(rs.filter.match(ref)) == [ref.label]  # every input equal: only itself
    assert labels(rs.filter.match(ref, include_reference=False)) == []
    assert len(rs.filter.match(ref, ["arr.task"], gt=["dt"])) == 0
    assert len(rs.filter.match(ref, ge=["dt"])) == 2 and len(rs.filter.match(ref, lt=["dt"])) == 1
    assert len(rs.filter.match(ref, isclose=["dt"], atol=0.3)) == 3
    task = tasks.analyze(arr=tasks.square(x=2), dt=0.5)  # a task: its inputs are the reference
    assert [r.param("arr.x") for r in rs.filter.match(task)] == [2]
    assert len(rs.filter.match({"dt": 0.25}, ["dt"])) == 1  # plain parameters
    assert rs.filter.match(ref, ["dt"])._conditions()  # dt=0.5 narrows the query
    assert rs.filter.match(ref)._conditions()
    same = tasks.noisy(seed=1)
    same.run()
    same.run(recompute=True)  # a second record of the same inputs
    newest = RSView().filter.task("noisy").latest
    assert len(RSView().filter.match(newest)) == 2
    assert "match(record " in rs.filter.match(ref, ["dt"]).filters[0]
    with pytest.raises(FilterError, match=r"has no parameter 'tau'.*arr.task, arr.x, dt, nbins"):
        rs.filter.match(ref, ["tau"])
    with pytest.raises(FilterError, match="lists of keys"):
        rs.filter.match(ref, "dt")  # type: ignore[arg-type]
    with pytest.raises(FilterError, match="a record, a task or a mapping"):
        rs.filter.match(3)


def test_store_conditions_never_change_the_result_of_the_new_filters(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    every = rs[:]  # a fixed selection: tested in Python only
    ref = rs.filter.task("analyze").earliest
    version = rs.latest.version
    chains = [
        lambda v: v.filter.tags_or("_crashed_", "_killed_"),
        lambda v: v.filter.tags_not({"_crashed_"}),
        lambda v: v.filter.outcome_not(contains="bad x"),
        lambda v: v.filter.reason_not("to see a crash"),
        lambda v: v.filter.user(contains="test@example.org"),
        lambda v: v.filter.user("nobody"),
        lambda v: v.filter.main_file("parity_tasks.py"),
        lambda v: v.filter.main_file(regex=r"^parity_\w+\.py$"),
        lambda v: v.filter.version(version[:7]),
        lambda v: v.filter.version("0000000", version),
        lambda v: v.filter.match(ref, ["dt"]),
        lambda v: v.filter.match(ref),
        lambda v: v.filter.params(isclose={"dt": 0.5}),
        lambda v: v.filter.stdout_stderr(contains="talking"),
        lambda v: v.filter.output(minimum=2),
    ]
    for chain in chains:
        assert labels(chain(rs)) == labels(chain(every))
    for chain in chains[:4] + chains[6:11]:
        assert labels(chain(rs)) == labels(chain(RSView(store=copy_into_memory())))
    assert rs.filter.tags_or("_crashed_")._conditions()  # pushed into the query
    assert rs.filter.version("abc")._conditions() and rs.filter.user("x")._conditions()
    assert not rs.filter.outcome_not("x")._conditions()  # negations: tested on the rows


def test_text_tag_and_output_filters(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    [crash] = rs.filter.status("crashed")
    assert len(rs.filter.outcome_not(contains="bad x")) == 7
    assert labels(rs.filter.outcome_not(regex=".*")) == []
    assert len(rs.filter.reason_not("to see a crash")) == 7
    assert len(rs.filter.user(contains="Test")) == 8 and len(rs.filter.user("nobody")) == 0
    assert len(rs.filter.version(crash.version[:8])) == 8 and len(rs.filter.version("0000")) == 0
    assert len(rs.filter.main_file("parity_tasks.py")) == 8
    assert len(rs.filter.main_file(contains="other")) == 0
    [talk] = rs.filter.stdout_stderr(contains="talking 3")
    assert talk.name == "talk"
    assert labels(rs.filter.stdout_stderr(regex=r"ValueError: bad x=\d")) == [crash.label]
    rs.filter.task("square").add_tag("a")
    rs.filter.task("talk").add_tag("b")
    fresh = RSView()
    assert len(fresh.filter.tags_or("a", "b")) == 4 and len(fresh.filter.tags_or(["b"])) == 1
    assert len(fresh.filter.tags_not("a", "b")) == 4 and len(fresh.filter.tags_not({"a"})) == 5
    assert len(rs.filter.output()) == 7  # every finished record stored a file
    assert labels(rs.filter.output(minimum=0, maximum=0)) == [crash.label]
    assert {r.name for r in rs.filter.output(minimum=2)} == {"analyze"}  # mean and n
    assert len(rs.filter.output(minimum=None, maximum=None)) == 8
    with pytest.raises(FilterError, match="exactly one"):
        rs.filter.outcome_not("a", regex="b")
    with pytest.raises(FilterError, match="commit ids"):
        rs.filter.version("")
    with pytest.raises(FilterError, match=r"keeps no record .* output\(minimum=0, maximum=0\)"):
        rs.filter.output(maximum=0)
    with pytest.raises(FilterError, match="whole numbers"):
        rs.filter.output(minimum=1.5)  # type: ignore[arg-type]
    with pytest.raises(FilterError, match="takes tags"):
        rs.filter.tags_or()


class CountingStore(MemoryStore):
    """A store in memory that counts the long text fields it is asked for."""

    reads: list[str]

    def text(self, label: str, field: str) -> str:
        self.reads.append(label)
        return super().text(label, field)


def test_cheap_tests_run_before_those_reading_the_store(tasks) -> None:  # type: ignore[no-untyped-def]
    source = copy_into_memory()
    store = CountingStore(source.info)
    store.reads = []
    store.write([source.record(label) for label in reversed(source.labels())])
    rs = RSView(store=store)
    # reason_not is tested on the rows (no store condition), before the captured output
    found = rs.filter.stdout_stderr(contains="ValueError").filter.reason_not("")
    assert len(found) == 1 and store.reads == [found[0].label]  # only the crash is read
    assert labels(found) == labels(RSView().filter.stdout_stderr(contains="ValueError"))


# -- comments and reasons ---------------------------------------------------------------------


def test_comments_and_reasons_are_stored_where_sumatra_sees_them(tasks) -> None:  # type: ignore[no-untyped-def]
    squares = RSView().filter.task("square")
    assert squares.add_comment("checked") == 3
    assert {r.outcome for r in squares} == {"checked"}  # the view's records follow
    assert squares.add_comment("checked") == 3  # already there: not added again
    assert squares.filter.params(eq={"x": 1}).add_comment("looks fine") == 1
    fresh = RSView().filter.task("square")
    assert sorted(r.outcome for r in fresh) == ["checked", "checked", "checked\nlooks fine"]
    assert sorted(r.sumatra.outcome for r in fresh) == sorted(r.outcome for r in fresh)
    assert len(RSView().filter.outcome(contains="looks fine")) == 1
    assert fresh.add_comment("redo", replace=True) == 3
    assert {r.outcome for r in RSView().filter.task("square")} == {"redo"}

    crash = RSView().filter.status("crashed")
    assert crash.update_reason("[known] ") == 1
    assert crash.update_reason("[known] ") == 1  # already there: unchanged
    assert crash.latest.reason == "[known] to see a crash"
    crash.update_reason(" (bug #3)", mode="append")
    crash.update_reason({r"#(\d)": r"#4\1"})  # a mapping substitutes
    crash.update_reason(lambda old: old.upper())
    crash.update_reason(lambda old: None)  # None: unchanged
    assert RSView().get(crash.latest.label).reason == "[KNOWN] TO SEE A CRASH (BUG #43)"
    assert RSView().get(crash.latest.label).sumatra.reason == "[KNOWN] TO SEE A CRASH (BUG #43)"
    crash.update_reason("fixed", mode="replace all")  # SumatraTask's name of the mode
    assert len(RSView().filter.reason("fixed")) == 1
    with pytest.raises(RecordingError, match="Unknown mode 'delete'"):
        crash.update_reason("x", mode="delete")
    with pytest.raises(RecordingError, match="takes a mapping"):
        crash.update_reason("x", mode="substitute")
    with pytest.raises(RecordingError, match="Invalid regular expression"):
        crash.update_reason({"(": "x"})
    with pytest.raises(RecordingError, match="is text"):
        crash.update_reason(lambda old: 3)  # type: ignore[arg-type,return-value]
    with pytest.raises(RecordingError, match="A comment is some text"):
        crash.add_comment("  ")
    assert RSView().get(crash.latest.label).reason == "fixed"


def test_comments_in_memory_change_only_that_store(tasks) -> None:  # type: ignore[no-untyped-def]
    memory = copy_into_memory()
    rm = RSView(store=memory)
    assert rm.filter.task("talk").add_comment("seen") == 1
    assert rm.filter.task("talk").update_reason("why: ") == 1
    assert RSView(store=memory).filter.outcome("seen").latest.reason == "why: "
    assert len(RSView().filter.outcome("seen")) == 0


def test_a_postgresql_store_takes_comments_reasons_and_exports(
    project, postgres_dsn, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording.projectinit import InitOptions, init_project

    init_project(project.root, InitOptions(name="pgparity", store=postgres_dsn))
    mod = project.write_module("pgparity_tasks", TASKS)
    for x, dt in [(1, 0.5), (2, 0.25)]:
        mod.analyze(arr=mod.square(x=x), dt=dt).run()
    rs = RSView()
    assert rs.filter.task("analyze").add_comment("pg") == 2
    assert rs.filter.task("square").update_reason("sq: ") == 2
    fresh = RSView()
    assert len(fresh.filter.outcome("pg")) == 2 and len(fresh.filter.reason("sq: ")) == 2
    assert [tuple(k) for k in fresh.filter.task("analyze").splitby("dt")] == [(0.25,), (0.5,)]
    ref = fresh.filter.task("analyze").latest
    assert labels(fresh.filter.match(ref)) == [ref.label]
    path = fresh.export(tmp_path / "pg.json")
    assert len(json.loads(path.read_text())["records"]) == 4
    assert "def analyze" in ref.task_code


# -- export -----------------------------------------------------------------------------------

READER = """
import hashlib, json, sys
from pathlib import Path
doc = json.loads(Path(sys.argv[1]).read_text())
assert doc["format"] == "smttask-records" and doc["format_version"] == 1
for rec in doc["records"]:
    for key in rec["output_data"]:
        data = (Path(doc["output_store"]) / key["path"]).read_bytes()
        assert hashlib.sha1(data).hexdigest() == key["digest"], key
        print(rec["label"], rec["parameters"]["task"], key["metadata"]["output"], len(data))
assert "smttask" not in sys.modules
"""


def test_export_writes_records_any_program_can_read(tasks, tmp_path) -> None:  # type: ignore[no-untyped-def]
    analyses = RSView().filter.task("analyze")
    path = analyses.export(tmp_path / "analyses.json")
    doc = json.loads(path.read_text())
    assert set(doc) == {
        "format",
        "format_version",
        "project",
        "exported",
        "output_store",
        "input_store",
        "records",
    }
    assert doc["project"] == "test" and [r["label"] for r in doc["records"]] == labels(analyses)
    newest = doc["records"][0]
    record = analyses.latest
    assert newest["parameters"] == record.params and newest["script_arguments"] == record.taskname
    assert newest["version"] == record.version and newest["tags"] == ["_finished_"]
    assert {k["metadata"]["output"] for k in newest["output_data"]} == {"mean", "n"}
    assert newest["dependencies"] and newest["platforms"]  # everything the store keeps
    # read by plain Python, without smttask: the files and their SHA-1 check out
    done = subprocess.run(
        [sys.executable, "-I", "-c", READER, str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 6 and " analyze mean " in done.stdout
    with pytest.raises(RecordingError, match="exists, and export"):
        analyses.export(path)
    assert RSView().filter.task("talk").export(path, overwrite=True) == path
    assert [r["parameters"]["task"] for r in json.loads(path.read_text())["records"]] == ["talk"]
    with pytest.raises(RecordingError, match="is a folder"):
        analyses.export(tmp_path)
    text = json.loads(analyses.to_json(indent=None))
    assert text["records"] == doc["records"]
    empty = json.loads(RSView().filter.task("nothing").to_json())
    assert empty["records"] == [] and empty["project"] == "test"
    records = RSView(store=copy_into_memory()).filter.task("analyze").to_json()
    assert json.loads(records)["records"] == doc["records"]  # the same from any store


# -- what a record tells ----------------------------------------------------------------------


def test_record_parameters_outputpaths_and_description(tasks) -> None:  # type: ignore[no-untyped-def]
    record = RSView().filter.task("analyze").filter.params(eq={"arr.x": 2}).latest
    assert record.parameters is record.params and record.parameters["task"] == "analyze"
    assert record.outputpaths == [record.outputs["mean"], record.outputs["n"]]
    assert all(p.is_file() for p in record.outputpaths)
    text = record.describe()
    for piece in (record.label, "parity_tasks.analyze", "finished", "arr.x", "dt", "0.5"):
        assert piece in text
    sha = hashlib.sha1(record.outputpaths[0].read_bytes()).hexdigest()
    assert f"(SHA-1 {sha})" in text and "  mean" in text
    crash = RSView().filter.status("crashed").latest.describe()
    assert re.search(r"^outputs *: \(none\)$", crash, re.MULTILINE)
    assert re.search(r"^reason *: to see a crash$", crash, re.MULTILINE)


def test_task_code_is_read_at_the_records_commit(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    first = RSView().filter.task("analyze").latest
    assert first.task_code == ANALYZE
    assert RSView().filter.task("talk").latest.task_code.startswith("@RecordedTask\ndef talk(")
    changed = TASKS.replace("arr * dt", "arr * dt * 2").replace("# the mean", "# twice the mean")
    mod = smt_project.write_module("parity_tasks", changed)
    mod.analyze(arr=mod.square(x=5), dt=0.5).run()
    newer = RSView().filter.task("analyze").latest
    assert newer.version != first.version and "arr * dt * 2" in newer.task_code
    assert RSView().get(first.label).task_code == ANALYZE  # its own commit's code
    (smt_project.root / "parity_tasks.py").write_text("# uncommitted, and no task at all\n")
    assert "arr * dt * 2" in newer.task_code  # the working tree is never read


def test_task_code_errors_say_what_is_missing(tasks) -> None:  # type: ignore[no-untyped-def]
    memory = copy_into_memory()
    label = RSView().filter.task("square").latest.label
    stored = memory.record(label)
    assert stored is not None
    gone = {**stored, "label": "gone", "version": "ab" * 20}
    moved = {**stored, "label": "moved", "main_file": "elsewhere/tasks.py"}
    outside = {**stored, "label": "outside", "main_file": "/etc/passwd"}
    none = {**stored, "label": "none", "version": ""}
    memory.write([gone, moved, outside, none])
    rm = RSView(store=memory)
    with pytest.raises(CodeNotFoundError, match=r"at commit abababababab, but git cannot read"):
        _ = rm.get("gone").task_code
    with pytest.raises(CodeNotFoundError, match=r"elsewhere/tasks\.py at commit"):
        _ = rm.get("moved").task_code
    with pytest.raises(CodeNotFoundError, match="not a path inside the repository"):
        _ = rm.get("outside").task_code
    with pytest.raises(CodeNotFoundError, match="names no commit"):
        _ = rm.get("none").task_code
    with pytest.raises(LookupError):  # also a LookupError, and a RecordingError
        _ = rm.get("gone").task_code


def test_function_source_finds_the_function_by_its_qualified_name() -> None:
    text = textwrap.dedent(
        '''
        import smttask

        def helper():
            pass

        @smttask.RecordedTask(
            version="2",
        )
        # a comment between decorator and function
        def run(x: int) -> int:
            """Doc."""
            return helper() or x

        class Box:
            @staticmethod
            async def run(y):
                return y

        def run(x: int) -> int:  # redefined: the module keeps this one
            return -x
        '''
    )
    assert (
        function_source(text, "run", "m.py")
        == "def run(x: int) -> int:  # redefined: the module keeps this one\n    return -x\n"
    )
    assert function_source(text, "Box.run", "m.py").startswith("@staticmethod\nasync def run(y):")
    no_redefinition = text.rsplit("def run(x: int) -> int:  # redefined", 1)[0]
    found = function_source(no_redefinition, "run", "m.py")
    assert found.startswith('@smttask.RecordedTask(\n    version="2",\n)\n# a comment')
    assert found.endswith("return helper() or x\n")
    with pytest.raises(CodeNotFoundError, match=r"defines no function walk .*helper, run"):
        function_source(text, "walk", "m.py")
    with pytest.raises(CodeNotFoundError, match=r"defines no function Box\.nope"):
        function_source(text, "Box.nope", "m.py")
    with pytest.raises(CodeNotFoundError, match="not valid Python"):
        function_source("def (:", "run", "m.py")


def test_difference_shows_what_differs_through_upstream_tasks(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView().filter.task("analyze")
    one = rs.filter.params(eq={"arr.x": 1}).latest
    three = rs.filter.params(eq={"arr.x": 3}).latest
    diff = one.difference(three)
    assert diff and diff.labels == (one.label, three.label)
    assert diff.parameters == {"arr.x": (1, 3), "dt": (0.5, 0.25)}
    assert set(diff.fields) == {"digest"}  # same task, commit and file
    assert set(diff.outputs) == {"mean"}  # n is 2 in both: the same file content
    text = str(diff)
    assert "arr.x: 1 (1) vs 3 (2)" in text and "dt: 0.5 (1) vs 0.25 (2)" in text
    assert "mean:" in text and text == diff.text()
    table = diff.dframe()
    assert table.loc[("parameter", "arr.x"), one.label] == 1
    assert table.loc[("parameter", "dt"), three.label] == 0.25
    assert not one.difference(one) and "do not differ" in str(one.difference(one))

    talk = RSView().filter.task("talk").latest
    other = one.difference(talk)
    assert other.parameters["n"] == (keys.MISSING, 3) and other.parameters["dt"][1] is keys.MISSING
    assert other.fields["taskname"] == ("parity_tasks.analyze", "parity_tasks.talk")
    assert "n: (none) (1) vs 3 (2)" in str(other)
    same = tasks.noisy(seed=4)
    same.run()
    same.run(recompute=True)
    newer, older = RSView().filter.task("noisy")
    noise = newer.difference(older)
    assert not noise.parameters and not noise.fields and set(noise.outputs) == {""}
    with pytest.raises(TypeError, match="compares two records"):
        one.difference("label")  # type: ignore[arg-type]
