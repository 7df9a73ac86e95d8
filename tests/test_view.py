"""RSView: browsing real records made by running tasks in a real Sumatra project."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_docs import blocks, run_doc

from smttask import TaskExecutionError, clear_memory_cache, config
from smttask.cli import cli
from smttask.errors import OutputError, ProjectError, RecordingError, TaskFileError
from smttask.recording.journal import journal_dir
from smttask.view import INVALID, FilterError, Record, RecordNotFoundError, RSView, dates, keys

SMTTASK = str(Path(sys.executable).with_name("smttask"))

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
    return {"mean": arr * dt, "n": nbins}

@RecordedTask
def noisy(seed: int) -> float:
    return random.random()  # impure on purpose: each computation differs

@RecordedTask
def fail(x: int) -> int:
    raise ValueError(f"bad x={x}")
"""


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


def labels(view) -> list[str]:  # type: ignore[no-untyped-def]
    return view.list_labels()


@pytest.fixture
def tasks(smt_project):  # type: ignore[no-untyped-def]
    """Three `analyze` records on three `square` records, and one crashed `fail`."""
    mod = smt_project.write_module("view_tasks", TASKS)
    for x, dt in [(1, 0.5), (2, 0.5), (3, 0.25)]:
        mod.analyze(arr=mod.square(x=x), dt=dt).run()
    with pytest.raises(TaskExecutionError):
        mod.fail(x=1).run(reason="to see a crash")
    return mod


def test_user_story_filter_chain_dataframe_and_rebuilt_task(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    assert len(rs) == 7
    chosen = rs.filter.task("analyze").filter.after(20261101).filter.params(eq={"dt": 0.5})
    df = chosen.dframe()
    assert len(df) == 2 and set(df["task"]) == {"analyze"}
    assert list(df.columns[:10]) == [
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
    ]
    assert sorted(df["arr.x"]) == [1, 2] and set(df["dt"]) == {0.5}
    assert set(df["arr.task"]) == {"square"} and set(df["main_file"]) == {"view_tasks.py"}
    assert str(df["timestamp"].dtype) == "datetime64[us, UTC]" or "UTC" in str(
        df["timestamp"].dtype
    )

    clear_memory_cache()
    task = rs.filter.task("analyze").latest.task
    assert task.run() == tasks.analyze(arr=tasks.square(x=3), dt=0.25).run()
    assert not task.computed  # loaded from disk: no new record
    assert len(rs.refresh()) == 7


def test_filters_compose_lazily_and_see_records_made_after_the_view(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    squares = rs.filter.task("square")
    big = squares.filter.params(gt={"x": 1})
    tasks.square(x=10).run()  # after the views were made, before they are read
    assert len(squares) == 4
    assert sorted(r.param("x") for r in big) == [2, 3, 10]
    assert big.filters == ["task('square')", "params(gt={'x': 1})"]
    assert len(rs.filter.task("square").filter.tags("_finished_")) == 4
    assert len(rs.filter.task("square", "fail")) == 5
    assert len(rs.filter.task(tasks.analyze)) == 3  # a task type works too


def test_database_conditions_never_change_the_result(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    every = rs[:]  # a fixed selection: filters on it are only tested in Python
    chains = [
        lambda v: v.filter.task("analyze"),
        lambda v: v.filter.task("view_tasks.square", "fail"),
        lambda v: v.filter.label(contains="analyze"),
        lambda v: v.filter.label(contains="ANALYZE"),  # case matters, in every store
        lambda v: v.filter.label(regex=r"_(fail|square)_"),
        lambda v: v.filter.status("crashed"),
        lambda v: v.filter.tags("_finished_"),
        lambda v: v.filter.outcome(contains="bad x"),
        lambda v: v.filter.reason("to see a crash"),
        lambda v: v.filter.params(eq={"dt": 0.5}),
        lambda v: v.filter.params(eq={"task": "square"}),
        lambda v: v.filter.on(date.today()).filter.before(date.today() + timedelta(days=1)),
    ]
    for chain in chains:
        assert labels(chain(rs)) == labels(chain(every))
    assert rs.filter.task("analyze")._conditions()  # pushed into the query
    assert rs.filter.params(eq={"dt": 0.5})._conditions()
    assert labels(rs.filter.label(contains="ANALYZE")) == []
    assert len(rs.filter.task("analyze")) == 3


def test_tag_status_label_outcome_and_predicate_filters(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    [crash] = rs.filter.status("crashed")
    assert crash.status == "crashed" and crash.outcome == "ValueError: bad x=1"
    assert crash.reason == "to see a crash" and "bad x=1" in crash.stdout_stderr
    assert len(rs.filter.status("finished")) == 6
    assert len(rs.filter.status("finished", "crashed")) == 7
    assert labels(rs.filter.label(crash.label)) == [crash.label]
    assert labels(rs.filter.outcome(regex=r"x=\d")) == [crash.label]
    assert len(rs.filter(lambda r: r.name == "square" and r.param("x") >= 2)) == 2
    assert len(rs.filter.where(lambda r: r.duration is not None)) == 7
    assert len(rs.filter.tags(lacks="_crashed_")) == 6
    with pytest.raises(FilterError, match="Unknown status 'done'"):
        rs.filter.status("done")
    with pytest.raises(FilterError, match="exactly one"):
        rs.filter.label("a", contains="b")
    with pytest.raises(FilterError, match="regular expression"):
        rs.filter.label(regex="(")


def test_parameter_keys_reach_upstream_inputs(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    long_form = rs.filter.params(eq={"inputs.arr.inputs.x": 2})
    assert labels(long_form) == labels(rs.filter.params(eq={"arr.x": 2}))
    assert labels(long_form) == labels(rs.filter.params(eq={("arr", "x"): 2}))
    [record] = long_form
    assert record.param("arr.task") == "square" and record.param("task") == "analyze"
    assert record.param("arr.x") == 2 and record.param("nbins") == 2
    assert len(rs.filter.params(lt={"dt": 0.5})) == 1
    assert len(rs.filter.params(ge={"arr.x": 2})) == 2
    assert len(rs.filter.params(isin={"x": [1, 3]})) == 3  # two squares and the crash
    assert len(rs.filter.params(notin={"x": [1, 3]})) == 1
    assert len(rs.filter.params(ne={"dt": 0.5})) == 1  # records without dt never match
    assert len(rs.filter.params(has=["dt"])) == 3
    assert len(rs.filter.params(lacks=["dt"])) == 4
    assert len(rs.filter.params(eq={"dt": "0.5"})) == 0  # a string is not a float
    assert len(rs.filter.params(gt={"dt": "a"})) == 0  # cannot compare: no match
    assert len(rs.filter.params(eq={"arr.digest": tasks.square(x=1).digest})) == 1
    with pytest.raises(KeyError, match=r"no parameter 'arr.y'.*arr.task, arr.x, dt, nbins"):
        record.param("arr.y")


def test_key_syntax() -> None:
    desc = {
        "smttask_format": 1,
        "task": "analyze",
        "inputs": {
            "arr": {"smttask_format": 1, "task": "square", "inputs": {"x": 3, "task": "t"}},
            "opts": {"a": {"b": 1}, "c.d": 2},
            "values": [10, 20],
            "task": "input named task",
        },
    }
    assert keys.resolve(desc, "task") == "analyze"
    assert keys.resolve(desc, "inputs.task") == "input named task"
    assert keys.resolve(desc, "arr.x") == keys.resolve(desc, "inputs.arr.inputs.x") == 3
    assert keys.resolve(desc, "arr.inputs.task") == "t"
    assert keys.resolve(desc, "opts.a.b") == 1
    assert keys.resolve(desc, ("opts", "c.d")) == 2
    assert keys.resolve(desc, "values.1") == 20 and keys.resolve(desc, "values.-1") == 20
    assert keys.resolve(desc, "values.2") is keys.MISSING
    assert keys.resolve(desc, "nope.x") is keys.MISSING
    assert keys.flatten(desc) == {
        "arr.task": "square",
        "arr.x": 3,
        "arr.inputs.task": "t",
        "opts.a.b": 1,
        "opts.c.d": 2,
        "values": [10, 20],
        "inputs.task": "input named task",
    }
    for key, value in keys.flatten(desc).items():
        if key != "opts.c.d":  # a dict key with a dot needs the tuple form
            assert keys.resolve(desc, key) == value


def test_date_arguments() -> None:
    local = datetime.now().astimezone().tzinfo
    start, end = dates.span(20261101)
    assert start == datetime(2026, 11, 1, tzinfo=local) and end - start == timedelta(days=1)
    assert dates.span("2026-11-01") == dates.span(20261101) == dates.span(date(2026, 11, 1))
    assert dates.span("20261101-153000")[0] == datetime(2026, 11, 1, 15, 30, tzinfo=local)
    assert dates.span("2026-11-01 15:30")[1] - dates.span("2026-11-01 15:30")[0] == timedelta(
        minutes=1
    )
    assert dates.span(202612) == (
        datetime(2026, 12, 1, tzinfo=local),
        datetime(2027, 1, 1, tzinfo=local),
    )
    assert dates.span(2026)[1] == datetime(2027, 1, 1, tzinfo=local)
    when = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert dates.span(when) == (when, when)
    assert dates.span("2026-11-01T12:00:00Z")[0] == when
    for bad in (2026111, "yesterday", 20261301, 3.5):
        with pytest.raises(FilterError):
            dates.span(bad)


def test_date_filters_with_a_record_from_the_past(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    config.settings.record = False  # results made without a record...
    task = tasks.square(x=7)
    task.run()
    archive = smt_project.root / "data" / "run_dump" / "square" / f"{task.key}.json"
    old = datetime(2025, 6, 15, 12, 0).timestamp()
    os.utime(archive, (old, old))
    result = invoke("store", "create-surrogates")  # ...get a record dated by the file
    assert result.exit_code == 0, result.output
    rs = RSView()
    [past] = rs.filter.before(20260101)
    assert past.status == "surrogate" and past.timestamp.year == 2025
    assert labels(rs.filter.on(20250615)) == [past.label]
    assert labels(rs.filter.on("2025-06")) == [past.label]
    assert labels(rs.filter.on(datetime(2025, 6, 15, 23, 0))) == [past.label]
    assert labels(rs.filter.between(2025, 2026)) == [past.label]
    assert len(rs.filter.after("2025-06-16")) == 7
    assert len(rs.filter.after(datetime.now() + timedelta(hours=1))) == 0
    assert rs.earliest == past and rs.latest.timestamp > past.timestamp
    assert rs.summary().loc["square", "surrogate"] == 1


def test_latest_earliest_get_len_iteration_indexing_and_summary(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    records = list(rs)
    assert [r.timestamp for r in records] == sorted((r.timestamp for r in records), reverse=True)
    assert rs[0] == rs.latest == records[0] and rs[-1] == rs.earliest == records[-1]
    assert rs.latest.name == "fail" and rs.earliest.name == "square"
    assert rs.filter.task("analyze").earliest.param("arr.x") == 1
    assert isinstance(rs[1:3], RSView) and labels(rs[1:3]) == labels(rs)[1:3]
    assert len(rs[:3].filter.task("analyze")) == len(
        [r for r in records[:3] if r.name == "analyze"]
    )
    assert rs.get(records[2].label) == records[2] == rs[records[2].label]
    assert records[2].label in rs and records[2] in rs
    assert rs.get(records[0].label[:-3]) == records[0]  # a unique prefix is enough
    summary = rs.summary()
    assert summary.to_dict() == {
        "crashed": {"analyze": 0, "fail": 1, "square": 0},
        "finished": {"analyze": 3, "fail": 0, "square": 3},
        "total": {"analyze": 3, "fail": 1, "square": 3},
    }
    with pytest.raises(IndexError, match="holds 7"):
        rs[7]
    with pytest.raises(RecordNotFoundError, match="no latest record"):
        _ = rs.filter.task("nothing").latest


def test_get_unknown_label_lists_close_matches(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    label = rs.filter.task("analyze").latest.label
    typo = label[:-1] + ("0" if label[-1] != "0" else "1")
    with pytest.raises(
        RecordNotFoundError, match=f"No record labelled '{typo}'.*Close matches: {label}"
    ):
        rs.get(typo)
    with pytest.raises(RecordNotFoundError, match="leave it out"):
        rs.filter.task("square").get(label)
    with pytest.raises(RecordNotFoundError, match=r"7 records .* starting with '20'"):
        rs.get("20")
    with pytest.raises(LookupError):  # also a LookupError, and a RecordingError
        rs.get("no-such-record")


def test_dataframe_parameter_selection_and_displays(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    df = rs.dframe(params=False)
    assert list(df.columns) == list(rs.dframe().columns[:10])
    picked = rs.filter.task("analyze").dframe(params=["arr.x", ("dt",), "missing"])
    assert list(picked.columns[10:]) == ["arr.x", "dt", "missing"]
    assert picked["missing"].isna().all() and sorted(picked["arr.x"]) == [1, 2, 3]
    rs.filter.task("fail").add_tag("look-at-me")
    text = repr(rs.refresh())
    assert text.startswith("RSView of project 'test': 7 records (6 finished, 1 crashed)")
    assert "look-at-me" in text and "ValueError: bad x=1" in text
    page = rs._repr_html_()
    assert page.count("<tr>") == 8 and "look-at-me" in page and "<table>" in page
    record = rs.latest
    assert "bad x=1" in record._repr_html_() and record.label in repr(record)
    empty = rs.filter.task("nothing")
    assert "0 records" in repr(empty) and "<table>" not in empty._repr_html_()


def test_inputs_named_like_columns_or_fields_keep_their_own_columns(smt_project) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module(
        "clash_tasks",
        """
        from smttask import RecordedTask

        @RecordedTask
        def clash(label: str, task: int, digest: float) -> int:
            return task
        """,
    )
    mod.clash(label="mine", task=3, digest=0.5).run()
    rs = RSView()
    df = rs.dframe()
    assert df.loc[0, "label"] == rs.latest.label and df.loc[0, "task"] == "clash"
    assert df.loc[0, "inputs.label"] == "mine" and df.loc[0, "inputs.task"] == 3
    assert df.loc[0, "inputs.digest"] == 0.5
    picked = rs.dframe(params=["label", "inputs.task", "task"])
    assert list(picked.columns[10:]) == ["inputs.label", "inputs.task", "params.task"]
    assert list(picked.iloc[0, 10:]) == ["mine", 3, "clash"]
    assert len(rs.filter.params(eq={"label": "mine", "inputs.task": 3, "task": "clash"})) == 1


def test_tags_are_edited_in_the_store_for_records_and_whole_views(tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    assert rs.filter.task("square").add_tag("paper", "fig-2") == 3
    record = rs.filter.task("analyze").latest.add_tag("paper")
    assert record.tags == {"_finished_", "paper"}
    fresh = RSView()
    assert len(fresh.filter.tags("paper")) == 4 and len(fresh.filter.tags("fig-2")) == 3
    assert len(fresh.filter.tags("paper", lacks="fig-2")) == 1
    listed = invoke("smt", "list", "fig-2")  # Sumatra's own tag tables agree
    assert listed.exit_code == 0, listed.output
    assert sorted(listed.output.split()) == sorted(labels(fresh.filter.tags("fig-2")))
    assert fresh.filter.tags("paper").remove_tag("paper") == 4
    assert len(RSView().filter.tags("paper")) == 0
    assert RSView().get(record.label).tags == {"_finished_"}
    with pytest.raises(RecordingError, match="white space"):
        record.add_tag("two words")


def test_get_output_reads_the_records_own_files_and_checks_them(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    task = tasks.noisy(seed=1)
    first = task.run()
    second = task.run(recompute=True)  # a new archive, and the link now points to it
    assert first != second
    new, old = RSView().filter.task("noisy")
    assert (old.get_output(), new.get_output()) == (first, second)
    assert old.outputs[""] != new.outputs[""] and old.outputs[""].exists()
    clear_memory_cache()
    assert tasks.noisy(seed=1).run() == second

    stats = RSView().filter.task("analyze").filter.params(eq={"arr.x": 2}).latest
    assert stats.get_output("mean") == 2.0 and stats.get_output().n == 2
    assert set(stats.outputs) == {"mean", "n"}
    with pytest.raises(OutputError, match="no output named 'std'"):
        stats.get_output("std")
    stats.outputs["mean"].write_text("7.0")  # changed behind the record's back
    with pytest.raises(OutputError, match="no longer holds what record"):
        stats.get_output("mean")
    assert stats.get_output("n") == 2
    with pytest.raises(OutputError, match=r"stored no output .*crashed: ValueError"):
        RSView().filter.status("crashed").latest.get_output()


def test_invalidate_makes_the_task_compute_again_and_keeps_the_files(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    task = tasks.noisy(seed=2)
    value = task.run()
    [record] = RSView().filter.task("noisy")
    archive = record.outputs[""]
    link = task.output_paths[""]
    assert link.is_symlink()
    moved = record.invalidate()
    assert moved == [archive.with_name(f"{task.key}.invalid.json")] and moved[0].exists()
    assert not archive.exists() and not link.exists()
    assert INVALID in record.tags and INVALID in RSView().get(record.label).tags
    assert record.get_output() == value  # the record follows its file
    assert RSView().get(record.label).outputs[""] == moved[0]
    assert record.invalidate() == moved  # again: nothing more to do

    clear_memory_cache()
    again = tasks.noisy(seed=2)
    assert again.run() != value and again.computed
    assert link.resolve() == archive.resolve()  # a new result at the usual place
    newer = RSView().filter.task("noisy").filter.tags(lacks=INVALID)
    assert len(newer) == 1 and newer.latest.get_output() == again.run()

    newer.latest.invalidate()  # the second time the name is taken: another one is used
    assert archive.with_name(f"{task.key}.invalid2.json").exists()


def test_record_task_errors_and_crashed_records(smt_project, tasks) -> None:  # type: ignore[no-untyped-def]
    rs = RSView()
    crash = rs.filter.status("crashed").latest
    assert crash.task == tasks.fail(x=1)
    assert crash.outputs == {}
    smt_project.write_module(
        "view_tasks",
        TASKS.replace("def square(x: int)", "def square(x: int, y: int = 0)"),
    )
    record = rs.filter.task("square").latest
    with pytest.raises(TaskFileError, match=f"Cannot rebuild the task of record {record.label}"):
        _ = record.task
    assert record.get_output() == 9  # its own files are still readable
    assert record.sumatra.label == record.label  # Sumatra's full record


def test_a_postgresql_store_is_browsed_and_edited_the_same_way(project, postgres_dsn) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording.projectinit import InitOptions, init_project

    init_project(project.root, InitOptions(name="pgview", store=postgres_dsn))
    mod = project.write_module("pgview_tasks", TASKS)
    for x, dt in [(1, 0.5), (2, 0.5), (3, 0.25)]:
        mod.analyze(arr=mod.square(x=x), dt=dt).run()
    rs = RSView()
    every = rs[:]
    chains = [
        lambda v: v.filter.task("analyze").filter.params(eq={"dt": 0.5}),
        lambda v: v.filter.label(regex=r"_square_"),  # a Python test only, on PostgreSQL
        lambda v: v.filter.label(contains="ANALYZE"),
        lambda v: v.filter.on(date.today()).filter.tags("_finished_"),
    ]
    for chain in chains:
        assert labels(chain(rs)) == labels(chain(every))
    assert len(rs.filter.task("analyze").filter.params(eq={"dt": 0.5})) == 2
    assert rs.filter.task("square").add_tag("pg") == 3
    assert len(RSView().filter.tags("pg")) == 3
    record = RSView().filter.task("analyze").latest
    assert record.get_output().mean == 2.25
    record.invalidate()
    assert INVALID in RSView().get(record.label).tags and record.get_output().mean == 2.25


def test_outside_a_project_the_error_says_how_to_make_one(project) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ProjectError, match="smttask project init"):
        RSView()


def test_records_journaled_by_other_processes_are_flushed_first(smt_project) -> None:  # type: ignore[no-untyped-def]
    mod = smt_project.write_module("journal_tasks", TASKS)
    folder = smt_project.root / "taskdir"
    for x in range(3):
        mod.square(x=x).save(folder)
    rs = RSView()
    assert len(rs) == 0
    env = {**os.environ, "SMTTASK_FLUSH_RECORDS": "0"}  # records stay in the journal
    done = subprocess.run([SMTTASK, "run", str(folder)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(journal_dir(smt_project.root).glob("*.jsonl"))
    assert len(rs.refresh()) == 3 and {r.param("x") for r in rs} == {0, 1, 2}


def test_each_read_moves_the_journaled_records_once(tasks, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import smttask.recording.store as store_module

    moves = []
    real = store_module.flush

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        moves.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(store_module, "flush", counting)
    rs = RSView()
    assert moves == []  # opening a view reads nothing
    assert len(rs) == 7 and len(moves) == 1
    assert rs.latest == rs[0] and len(moves) == 1  # read once, then kept
    assert RSView().filter.task("analyze").latest.name == "analyze" and len(moves) == 2
    label = rs[0].label
    assert RSView().get(label[:-2]).label == label and len(moves) == 3  # prefix: one read
    with pytest.raises(RecordNotFoundError):
        RSView().filter.task("square").get("no-such-label")
    assert len(moves) == 4


def test_a_view_reads_any_record_store_the_same_way(tasks) -> None:  # type: ignore[no-untyped-def]
    from smttask.recording.memory import MemoryStore
    from smttask.recording.store import open_store

    sqlite = open_store()
    memory = MemoryStore(sqlite.info)
    memory.write([sqlite.record(label) for label in reversed(sqlite.labels())])  # oldest first
    rs, rm = RSView(), RSView(store=memory)
    chains = [
        lambda v: v,
        lambda v: v.filter.task("analyze").filter.params(eq={"dt": 0.5}),
        lambda v: v.filter.task("view_tasks.square", "fail"),
        lambda v: v.filter.label(regex=r"_(fail|square)_"),
        lambda v: v.filter.label(contains="ANALYZE"),
        lambda v: v.filter.status("crashed", "killed"),
        lambda v: v.filter.on(date.today()).filter.tags("_finished_"),
        lambda v: v.filter.params(gt={"arr.x": 1}),
    ]
    for chain in chains:
        assert labels(chain(rm)) == labels(chain(rs))
    stats = rm.filter.task("analyze").filter.params(eq={"arr.x": 2}).latest
    assert stats.get_output().mean == 2.0 and stats.sumatra["label"] == stats.label
    assert (
        rm.filter.status("crashed").latest.stdout_stderr
        == rs.filter.status("crashed").latest.stdout_stderr
    )
    assert rm.filter.task("square").add_tag("memory") == 3
    assert len(RSView(store=memory).filter.tags("memory")) == 3
    assert len(RSView().filter.tags("memory")) == 0  # the project's own store is untouched


def test_rsview_is_exported_lazily_from_smttask() -> None:
    code = (
        "import sys, smttask\n"
        "heavy = [m for m in ('sumatra', 'django', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from smttask.view import RSView\n"
        "assert smttask.RSView is RSView\n"
        "heavy = [m for m in ('sumatra', 'django', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_view_doc_examples_run(smt_project) -> None:  # type: ignore[no-untyped-def]
    assert len(blocks("view.md")) >= 5
    namespace = run_doc("view.md", smt_project)
    assert isinstance(namespace["rs"], RSView)
    assert all(isinstance(r, Record) for r in namespace["rs"])
