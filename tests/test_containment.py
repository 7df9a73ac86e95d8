"""Records, journals, manifests and data folders stay data: each attack, end to end.

A record merged from someone else's store, a file planted in the data folder or an edited
export manifest never makes smttask touch, load, link or run anything outside the folder it
belongs to: the operation is refused for that item, with one sentence naming the culprit, and
everything else goes on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from smttask import RSView
from smttask.errors import OutputError
from smttask.recording.projectfile import find_project
from smttask.recording.projectinit import InitOptions, init_project
from smttask.recording.store import backend, open_store

TASKS = """
from smttask import RecordedTask

@RecordedTask
def square(x: int) -> int:
    return x * x
"""
SMTTASK = str(Path(sys.executable).with_name("smttask"))


def smttask(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`smttask ARGS...` as a user runs it, in `root`, with nothing on stdin."""
    return subprocess.run(
        [SMTTASK, *args], cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        env={**os.environ, "SMTTASK_PROJECT_ROOT": str(root)},
    )  # fmt: skip


def clean_error(done: subprocess.CompletedProcess[str], *words: str) -> str:
    """The output of a command that failed cleanly: exit 1, no traceback, naming `words`."""
    text = done.stdout + done.stderr
    assert done.returncode == 1, text
    assert "Traceback" not in text, text
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"
    return text


def key(path: str, digest: str = "ab" * 20) -> dict[str, object]:
    meta = {"encoding": None, "mimetype": "text/plain", "size": 6, "output": ""}
    return {"path": path, "digest": digest, "creation": "2026-03-01T12:00:05+00:00",
            "metadata": meta}  # fmt: skip


def their_store(tmp_path: Path, records: list[dict[str, object]]) -> Path:
    """Another project ("theirs") whose store holds `records`; returns its folder."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", *args], cwd=theirs, check=True)
    info = init_project(theirs, InitOptions(name="theirs"))
    backend(info).write(records)
    return theirs


@pytest.fixture
def victims(tmp_path: Path) -> dict[str, Path]:
    """Files outside the project, which no smttask command may touch."""
    found = {}
    for name in ("victim.txt", "absolute.txt"):
        found[name] = tmp_path / name
        found[name].write_text("keep me")
    return found


@pytest.fixture
def merged(smt_project, tmp_path: Path, victims: dict[str, Path]):  # type: ignore[no-untyped-def]
    """The project, with a record merged from another store naming outputs outside the data
    store (`..`, an absolute path) beside one of its own in the store."""
    tasks = smt_project.write_module("ctasks", TASKS)
    mine = tasks.square(x=3)
    mine.run()
    open_store()  # this process's record, moved into the store
    evil = {
        "label": "20260301-120000_evil_00000000",
        "timestamp": "2026-03-01T12:00:00+00:00",
        "script_arguments": "ctasks.square",
        "tags": ["_finished_"],
        "parameters": mine.desc,
        "output_data": [key("square/../../../victim.txt"), key(str(victims["absolute.txt"]))],
    }
    theirs = their_store(tmp_path, [evil])
    done = smttask(smt_project.root, "store", "merge", str(theirs))
    assert done.returncode == 0 and "Added 1 record(s)" in done.stdout, done.stderr
    return smt_project, mine, evil["label"]


def test_delete_never_removes_files_outside_the_output_store(merged, victims) -> None:  # type: ignore[no-untyped-def]
    project, mine, label = merged
    done = smttask(project.root, "store", "delete", "--yes", "--task", "square")
    text = clean_error(done, label, "'square/../../../victim.txt'", "outside the output data store")
    assert str(victims["absolute.txt"]) in text and "not deleted" in text
    assert all(p.read_text() == "keep me" for p in victims.values())
    # The rest went on: both records and the project's own result are gone.
    assert open_store().labels() == []
    assert not mine.output_paths[""].exists()


def test_rebuild_and_invalidate_never_link_or_rename_outside(merged, victims, tmp_path) -> None:  # type: ignore[no-untyped-def]
    project, mine, label = merged
    before = sorted(tmp_path.iterdir())
    mine.output_paths[""].unlink()
    done = smttask(project.root, "store", "rebuild")
    clean_error(done, label, "'square/../../../victim.txt'", "not linked")
    assert "Created 1 link(s)" in done.stdout and mine.output_paths[""].exists()
    assert sorted(tmp_path.iterdir()) == before  # no link made beside the victims

    record = RSView().filter.label(label).latest
    with pytest.raises(OutputError, match=r"outside the output data store.*not read"):
        record.get_output()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert record.outputs == {}
    assert sorted(
        ("victim.txt'" in str(w.message), "absolute.txt'" in str(w.message)) for w in caught
    ) == [(False, True), (True, False)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record.invalidate()
    assert len(caught) == 2 and all("not renamed" in str(w.message) for w in caught)
    assert sorted(tmp_path.iterdir()) == before
    assert all(p.read_text() == "keep me" for p in victims.values())


def _planted(project, tmp_path: Path):  # type: ignore[no-untyped-def]
    tasks = project.write_module("ptasks", TASKS)
    task = tasks.square(x=4)
    task.run()
    open_store()
    task.save(project.root / "taskdir")
    lie = tmp_path / "lie.json"
    lie.write_text("999")
    return task, lie


def test_a_planted_link_is_reported_never_loaded(smt_project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    task, lie = _planted(smt_project, tmp_path)
    link = task.output_paths[""]
    link.unlink()
    link.symlink_to(lie)
    done = smttask(smt_project.root, "run", "taskdir")
    text = clean_error(done, str(link), str(lie), "does not load it", "smttask store rebuild")
    assert "999" not in text.replace(str(lie), "")
    # The archive itself replaced by a link (no link in the input store): refused too.
    archive = smt_project.root / "data" / "run_dump" / "square" / link.name
    link.unlink()
    archive.unlink()
    archive.symlink_to(lie)
    clean_error(smttask(smt_project.root, "run", "taskdir"), str(archive), "does not load it")


def test_a_planted_folder_link_in_the_input_store_is_not_followed(smt_project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    task, _ = _planted(smt_project, tmp_path)
    link = task.output_paths[""]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / link.name).write_text("999")
    folder = link.parent
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    folder.symlink_to(elsewhere)
    done = smttask(smt_project.root, "run", "taskdir")
    clean_error(done, str(link), "reached through a symbolic link", "does not load it")


def test_numbered_archives_and_relative_links_still_load(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("ntasks", TASKS)
    task = tasks.square(x=5)
    task.run()
    task.run(recompute=True)  # the link now points to the numbered archive
    assert os.readlink(task.output_paths[""]).endswith(".1.json")
    import smttask

    smttask.clear_memory_cache()
    again = tasks.square(x=5)
    assert again.run() == 25 and not again.computed  # type: ignore[attr-defined]


def test_a_planted_lock_file_link_is_never_opened(smt_project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "target"
    info = find_project(smt_project.root)
    assert info is not None
    Path(info.store).unlink()  # tables are made again, under the creation lock
    lock = Path(info.store).parent / ".records.lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(target)
    done = smttask(smt_project.root, "store", "rebuild")
    clean_error(done, str(lock), "symbolic link", f"rm {lock}")
    assert not target.exists()


def test_a_planted_journal_link_is_not_read(smt_project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    journal = smt_project.root / ".smt" / "journal"
    journal.mkdir(exist_ok=True)
    fake = tmp_path / "fake.jsonl"
    lines = [{"kind": "begin", "label": "planted", "timestamp": "2026-03-01T12:00:00+00:00"},
             {"kind": "end", "label": "planted", "tags": ["_finished_"]}]  # fmt: skip
    fake.write_text("".join(json.dumps(x) + "\n" for x in lines))
    (journal / "host-1-00000000.jsonl").symlink_to(fake)
    done = smttask(smt_project.root, "store", "flush")
    clean_error(done, "host-1-00000000.jsonl", "not a journal smttask wrote")
    assert open_store(flush_first=False).labels() == []
    assert fake.exists()


def test_merge_never_runs_code_from_another_store(smt_project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pwned = tmp_path / "PWNED"
    plain = {"label": "plain", "timestamp": "2026-03-01T12:00:00+00:00"}
    theirs = their_store(tmp_path, [{**plain, "label": "evil"}, plain])
    from sumatra.recordstore.django_store import models

    code = f"__import__('pathlib').Path({str(pwned)!r}).touch() or {{}}"
    evil = models.Record.objects.using("default").get(label="evil")
    mode = models.LaunchMode.objects.using("default").create(type="SerialLaunchMode",
                                                             parameters=code)  # fmt: skip
    models.Record.objects.using("default").filter(pk=evil.pk).update(launch_mode=mode)
    done = smttask(smt_project.root, "store", "merge", str(theirs))
    clean_error(done, "Not merged: Record evil holds launch mode parameters", "Python code")
    assert "Added 1 record(s)" in done.stdout
    assert not pwned.exists()
    assert open_store().labels() == ["plain"]


def test_reexport_never_removes_files_outside_the_build_folder(project, victims) -> None:  # type: ignore[no-untyped-def]
    project.write_module("etasks", TASKS)
    project.write("pipeline.py", "from etasks import square\ntasks = [square(x=1)]\n")
    project.commit("pipeline.py")
    args = ("export-snakemake", "pipeline.py:tasks", "-o", "build")
    assert smttask(project.root, *args).returncode == 0
    manifest = project.root / "build" / ".smttask-export"
    names = json.loads(manifest.read_text())
    manifest.write_text(json.dumps([*names, str(victims["absolute.txt"]), "../../victim.txt"]))
    done = smttask(project.root, *args)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert f"lists {str(victims['absolute.txt'])!r}" in done.stdout
    assert "'../../victim.txt', which leads to" in done.stdout and "not removed" in done.stdout
    assert all(p.read_text() == "keep me" for p in victims.values())
    assert json.loads(manifest.read_text()) == names  # rewritten without them
    # A planted link on the way of a file to write stops the export before it writes.
    tasks_dir = next(p for p in (project.root / "build").iterdir() if p.is_dir())
    os.rename(tasks_dir, project.root / "moved")
    tasks_dir.symlink_to(victims["victim.txt"].parent)
    done = smttask(project.root, *args)
    clean_error(done, "outside the folder", "remove the link")


def test_smt_delete_data_is_refused_for_store_delete(merged, victims) -> None:  # type: ignore[no-untyped-def]
    project, _, label = merged
    for args in (["--data", label], ["-td", "_finished_"], ["-d", label]):
        done = smttask(project.root, "smt", "delete", *args)
        clean_error(done, "smttask store delete", "refused")
    assert all(p.read_text() == "keep me" for p in victims.values())
    assert label in open_store().labels()
