"""Variable outputs (``smttask.typing``) end to end, and results that behave as tuples.

A variable output is one file per value and an index written last: a task running in the
session, ``smttask run`` of its task file in a fresh process, an exported Snakemake workflow
(which lists the files), and the records' view of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smttask.errors import OutputError

BIN = Path(sys.executable).parent

TASKS = """
import numpy as np
from scityping.numpy import Array
from smttask import RecordedTask, TaskOutput
from smttask.typing import SeparateOutputs, separate_outputs


@RecordedTask
def split(data: Array, n: int) -> separate_outputs(Array, lambda n: [f"part{i}" for i in range(n)]):
    return tuple(np.array_split(data, n))


@RecordedTask
def chunks(n: int) -> SeparateOutputs[float]:
    return tuple(float(i) for i in range(n))


class Powers(TaskOutput):
    square: float
    higher: separate_outputs(float, lambda pmax: [str(p) for p in range(3, pmax + 1)])


@RecordedTask
def powers(x: float, pmax: int) -> Powers:
    return x**2, tuple(x**p for p in range(3, pmax + 1))


@RecordedTask
def total(parts: SeparateOutputs[float]) -> float:
    return sum(parts)
"""

PIPELINE = """
import numpy as np
import tasks

targets = [
    tasks.split(data=np.arange(10.0), n=2),
    tasks.powers(x=3.0, pmax=4),
    tasks.total(parts=tasks.chunks(n=3)),
]
"""


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_in_the_session_one_file_per_value_and_an_index(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("tasks", TASKS)
    task = tasks.powers(x=2.0, pmax=5)
    result = task.run()
    assert result == (4.0, (8.0, 16.0, 32.0)) and result.higher == (8.0, 16.0, 32.0)
    folder = smt_project.root / "data/run_dump/powers"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{task.key}_{n}.json" for n in ("square", "higher", "higher_3", "higher_4", "higher_5")
    )
    index = json.loads((folder / f"{task.key}_higher.json").read_text())
    assert [e[0] for e in index["files"]] == ["3", "4", "5"]
    assert list(task.output_paths) == ["square", "higher_3", "higher_4", "higher_5", "higher"]
    assert task.get_output("higher_4") == 16.0
    with pytest.raises(OutputError, match="no output named 'higher_9'"):
        task.get_output("higher_9")
    split = tasks.split(data=np.arange(5.0), n=2)
    parts = split.run()
    assert [p.tolist() for p in parts] == [[0.0, 1.0, 2.0], [3.0, 4.0]]
    assert split.output_paths["part1"].suffix == ".npy"
    # Values known only after the run: positional names, and a task downstream takes them.
    assert tasks.total(parts=tasks.chunks(n=4)).run() == 6.0
    assert tasks.chunks(n=4).get_output("2") == 2.0


def test_a_recorded_run_hashes_each_value_it_writes_once(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The index lists each value's SHA-1 and the record lists each output file's: one hash
    of the bytes written serves both, and no file is read back to hash it."""
    import hashlib

    from smttask import filehash

    tasks = smt_project.write_module("tasks", TASKS)
    hashed: list[bytes | None] = []
    real = hashlib.sha1

    def counting(data: bytes = b"", **options):  # type: ignore[no-untyped-def]
        hashed.append(bytes(data) if data else None)
        return real(data, **options)

    task = tasks.chunks(n=3)
    with monkeypatch.context() as patched:
        patched.setattr(filehash.hashlib, "sha1", counting)
        assert task.run() == (0.0, 1.0, 2.0) and task.computed
    index = Path(task.output_paths[""]).resolve()
    files = [index] + [index.parent / e[1] for e in json.loads(index.read_text())["files"]]
    values = [f.read_bytes() for f in files[1:]]
    assert len(values) == 3 and [hashed.count(v) for v in values] == [1, 1, 1], hashed
    assert hashed.count(index.read_bytes()) == 1  # the index, for the record
    assert None not in hashed  # no file read back to be hashed
    # The record (its journal's end line, this process's records not yet moved) lists the
    # SHA-1 of the bytes on disk.
    ends = [
        json.loads(line)
        for journal in (smt_project.root / ".smt/journal").glob("*.jsonl")
        for line in journal.read_text().splitlines()
        if '"kind":"end"' in line
    ]
    listed = {key["path"]: key["digest"] for key in ends[-1]["output_data"]}
    archives = smt_project.root / "data/run_dump"
    assert listed == {
        f.relative_to(archives.resolve()).as_posix(): hashlib.sha1(f.read_bytes()).hexdigest()
        for f in files
    }


def test_a_value_without_its_index_is_never_loaded(smt_project) -> None:  # type: ignore[no-untyped-def]
    tasks = smt_project.write_module("tasks", TASKS)
    task = tasks.chunks(n=2)
    task.run()
    index = task.output_paths[""]
    Path(index.resolve()).unlink()  # a writer killed before the index: values only
    index.unlink()
    again = tasks.chunks(n=2)
    assert again.run() == (0.0, 1.0) and again.computed
    # An edited value no longer matches the SHA-1 its index lists.
    value = Path(again.output_paths[""].resolve()).parent / f"{task.key}_1.json"
    value.write_text("5.0")
    with pytest.raises(OutputError, match="SHA-1 differs"):
        tasks.chunks(n=2).run()


def test_task_files_records_and_a_snakemake_workflow(smt_project) -> None:  # type: ignore[no-untyped-def]
    root = smt_project.root
    smt_project.write(".gitignore", "data/\n__pycache__/\nbuild/\n.snakemake/\ntf/\n")
    smt_project.commit(".gitignore")
    tasks = smt_project.write_module("tasks", TASKS)
    smt_project.write_module("pipeline", PIPELINE)
    # `smttask run` of saved task files, in a fresh process.
    tasks.powers(x=2.0, pmax=4).save(root / "tf")
    tasks.split(data=np.arange(4.0), n=2).save(root / "tf")
    done = run(BIN / "smttask", "run", *sorted((root / "tf").iterdir()), cwd=root)
    assert "2 ran, 0 loaded, 0 failed" in done.stdout + done.stderr
    # The export lists every file whose names the inputs give, and the index.
    run(BIN / "smttask", "export-snakemake", "pipeline.py:targets", "-o", "build", cwd=root)
    snakefile = (root / "build/Snakefile").read_text()
    powers = tasks.powers(x=3.0, pmax=4)
    split = tasks.split(data=np.arange(10.0), n=2)
    for name in ("square", "higher_3", "higher_4", "higher"):
        assert f"data/run_dump/powers/{powers.key}_{name}.json" in snakefile
    for name in ("part0.npy", "part1.npy"):
        assert f"data/run_dump/split/{split.key}_{name}" in snakefile
    chunks = tasks.chunks(n=3)
    assert f"data/run_dump/chunks/{chunks.key}.json" in snakefile  # the index only
    run(BIN / "snakemake", "-s", "build/Snakefile", "--cores", "2", cwd=root)
    check = (
        "import numpy as np, tasks\n"
        "from smttask import RSView\n"
        "p = tasks.powers(x=3.0, pmax=4)\n"
        "t = tasks.total(parts=tasks.chunks(n=3))\n"
        "assert p.run() == (9.0, (27.0, 81.0)) and t.run() == 3.0\n"
        "assert not p.computed and not t.computed\n"
        "rec = RSView().filter.task('powers').filter.where(lambda r: r.params['inputs']['x'] == 3.0).latest\n"
        "print(rec.get_output() == (9.0, (27.0, 81.0)), rec.get_output('higher_4'))\n"
        "print(RSView().filter.task('chunks').latest.get_output('1'))\n"
        "parts = RSView().filter.task('split').latest.get_output()\n"
        "print(len(parts), len(parts[0]))\n"
    )
    out = run(sys.executable, "-c", check, cwd=root).stdout.split()
    assert out[-5:] == ["True", "81.0", "1.0", "2", "5"]


def test_results_behave_as_tuples(project) -> None:  # type: ignore[no-untyped-def]
    tasks = project.write_module("tasks", TASKS)
    result = tasks.powers(x=2.0, pmax=3).run()
    assert result == (4.0, (8.0,)) and (4.0, (8.0,)) == result  # noqa: SIM300 - both sides
    assert isinstance(result, tuple) and len(result) == 2
    square, higher = result
    assert (square, higher) == (result.square, result.higher) == (result[0], result[1])
    assert hash(result) == hash((4.0, (8.0,)))
    assert result._fields == ("square", "higher")
    assert result._asdict() == {"square": 4.0, "higher": (8.0,)}
    assert result._replace(square=0.0) == (0.0, (8.0,))
    assert type(result)._make([1.0, (2.0,)]).square == 1.0
    assert result != (4.0, (9.0,))
