"""The warm job server (``smttask job-server``, the ``smttask-job`` client): real processes,
a real Snakemake. A job it runs must end as ``smttask run`` would: same results, records,
log text and exit code; whatever it cannot run the same way runs as a fresh ``smttask run``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from smttask.jobserver import admission
from smttask.jobserver.stamps import START_MARGIN_NS

BIN = Path(sys.executable).parent

TASKS = """
import os
import time
from pathlib import Path

from smttask import RecordedTask


@RecordedTask(version="1")
def scaled(i: int) -> int:
    print(f"scaling {i}")
    return i * 2


@RecordedTask
def boom(i: int) -> int:
    raise ValueError(f"boom {i}")


@RecordedTask
def slow(x: float) -> float:
    Path(f"slow.{os.getpid()}.started").touch()
    for _ in range(600):
        if Path("slow.release").exists():
            break
        time.sleep(0.1)
    Path("slow.finished").touch()
    return x
"""

UNTIDY = """
import atexit
import sys
import threading
import time
from pathlib import Path

from smttask import RecordedTask


@RecordedTask
def untidy(x: int) -> int:
    left = open(f"left.{x}.txt", "w")  # never closed, never flushed
    left.write("left open")
    sys.untidy_files = [left]  # alive until the process ends
    atexit.register(Path(f"atexit.{x}.txt").write_text, "atexit")

    def later() -> None:
        time.sleep(0.5)
        Path(f"thread.{x}.txt").write_text("thread")

    threading.Thread(target=later).start()  # not a daemon: the process waits for it
    return x
"""

PIPELINE = """
from js_tasks import scaled

tasks = [scaled(i=i) for i in range(4)]
"""

FAILING = """
from js_tasks import boom, scaled

tasks = [scaled(i=1), boom(i=7)]
"""


def env(**extra: str) -> dict[str, str]:
    # (pytest names the current test and its phase in the environment: not for the jobs)
    dropped = ("SMTTASK_JOB_SOCKET", "PYTEST_CURRENT_TEST")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**base, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def run(*cmd: str | Path, cwd: Path, timeout: float = 300, **extra: str):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(result):  # type: ignore[no-untyped-def]
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}\n{result.stderr}"
    return result


def make_project(project, pipeline: str = PIPELINE) -> Path:  # type: ignore[no-untyped-def]
    project.write(".gitignore", "data/\n__pycache__/\nbuild/\n.snakemake/\nslow.*\n*.log\n")
    project.commit(".gitignore")
    project.write_module("js_tasks", TASKS)
    project.write("pipeline.py", pipeline)
    project.commit("pipeline.py")
    sys.modules.pop("pipeline", None)
    ok(run(BIN / "smttask", "project", "init", "--yes", cwd=project.root))
    return project.root


def export(root: Path) -> None:
    ok(
        run(
            BIN / "smttask",
            "export-snakemake",
            "pipeline.py:tasks",
            "-o",
            "build",
            "--layout",
            "wildcard",
            cwd=root,
        )
    )


def task_files(root: Path, name: str) -> list[Path]:
    return sorted((root / "build/tasks" / name).glob("*.json"))


def argument(taskfile: Path) -> int:
    """The input `i` of a task file of `scaled`."""
    return int(json.loads(taskfile.read_text())["inputs"]["i"])


def server_log(root: Path) -> str:
    path = root / ".snakemake/log/smttask-job-server.log"
    return path.read_text() if path.exists() else ""


def forked_pids(text: str) -> list[int]:
    return [int(p) for p in re.findall(r"forked pid (\d+)", text)]


def server_pids(text: str) -> list[int]:
    return [int(p) for p in re.findall(r"serving on \S+ \(pid (\d+)", text)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def records(root: Path) -> list[tuple[str, str, list[str], str]]:
    """(task parameters, outcome, tags without the label-like ones, main file) of every
    record, sorted: what two runs of the same tasks must agree on."""
    code = (
        "import json, sys; from sumatra.projects import load_project; "
        "p = load_project(sys.argv[1]); "
        "print(json.dumps([[str(r.parameters), r.outcome or '', sorted(map(str, r.tags)), "
        "r.main_file] for r in p.record_store.list(p.name)]))"
    )
    ok(run(BIN / "smttask", "store", "flush", cwd=root))
    out = ok(run(sys.executable, "-c", code, str(root), cwd=root)).stdout
    return sorted(tuple(r) for r in json.loads(out))  # type: ignore[misc]


def results(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root / "data/run_dump")): p.read_text()
        for p in sorted((root / "data/run_dump").rglob("*.json"))
    }


def job_logs(root: Path) -> dict[str, str]:
    """The text of each job's log, its timings blanked."""
    return {
        p.name: re.sub(r"\d+\.\d+ s\b", "T s", p.read_text())
        for p in sorted((root / "build/logs").rglob("*.log"))
    }


class Server:
    """A server started by hand in `root` (as the Snakefile's onstart starts one)."""

    def __init__(self, root: Path, **extra: str) -> None:
        self.root = root
        self.extra = extra  # the environment of the server and its jobs, besides `env()`
        self.log = root / "server.log"
        started = ok(
            run(
                BIN / "smttask",
                "job-server",
                "start",
                "--idle",
                "120",
                "--parent",
                str(os.getpid()),
                "--log",
                self.log,
                cwd=root,
                **extra,
            )
        )
        self.socket = started.stdout.strip()
        assert self.socket.endswith(".sock"), started
        self.pid = server_pids(self.log.read_text())[-1]

    def job(self, *args: str | Path, timeout: float = 120, **extra: str):  # type: ignore[no-untyped-def]
        return run(
            BIN / "smttask-job",
            *args,
            cwd=self.root,
            timeout=timeout,
            SMTTASK_JOB_SOCKET=self.socket,
            **{**self.extra, **extra},
        )

    def text(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if alive(self.pid):
            run(BIN / "smttask", "job-server", "stop", self.socket, cwd=self.root)
        assert wait_gone(self.pid)


@pytest.fixture
def server(project):  # type: ignore[no-untyped-def]
    root = make_project(project)
    export(root)
    s = Server(root)
    yield s
    s.stop()


# -- the client ---------------------------------------------------------------------------


def test_the_client_imports_only_the_standard_library(tmp_path):
    code = (
        "import sys, smttask_job; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('smttask', 'click', 'json', 'socket', 'numpy', 'pydantic')))"
    )
    out = ok(run(sys.executable, "-c", code, cwd=tmp_path)).stdout
    assert out.strip() == "[]"


def test_the_client_runs_smttask_itself_without_a_server(tmp_path):
    """No socket, a socket nobody listens on, the server switched off, inside SLURM: the
    client becomes `smttask` with the same arguments (same output, same exit code)."""
    fresh = run(BIN / "smttask", "run", "--quiet", "missing.json", cwd=tmp_path)
    assert fresh.returncode != 0
    for extra in (
        {},
        {"SMTTASK_JOB_SOCKET": str(tmp_path / "nobody.sock")},
        {"SMTTASK_JOB_SOCKET": str(tmp_path / "nobody.sock"), "SMTTASK_JOB_SERVER": "0"},
        {"SMTTASK_JOB_SOCKET": str(tmp_path / "nobody.sock"), "SLURM_JOB_ID": "1"},
    ):
        client = run(BIN / "smttask-job", "run", "--quiet", "missing.json", cwd=tmp_path, **extra)
        assert (client.returncode, client.stdout, client.stderr) == (
            fresh.returncode,
            fresh.stdout,
            fresh.stderr,
        ), extra


# -- the admission rule --------------------------------------------------------------------


def test_the_environment_must_equal_the_servers_but_for_the_shells_bookkeeping(monkeypatch):
    server = {"PATH": "/bin", "OMP_NUM_THREADS": "1", "SHLVL": "1", "HOME": "/root"}
    same = {
        **server,
        "SHLVL": "2",
        "_": "/bin/smttask-job",
        "PWD": "/x",
        "SMTTASK_JOB_SOCKET": "/run/s.sock",
    }
    assert admission.environment_difference(same, server) == []
    threads = {**server, "OMP_NUM_THREADS": "2"}
    assert admission.environment_difference(threads, server) == ["OMP_NUM_THREADS"]
    extra = {**server, "SMTTASK_RECORD": "0", "PYTHONHASHSEED": "1"}
    assert admission.environment_difference(extra, server) == ["PYTHONHASHSEED", "SMTTASK_RECORD"]
    missing = {k: v for k, v in server.items() if k != "HOME"}
    assert admission.environment_difference(missing, server) == ["HOME"]
    # the temporary folder: free while nothing in the server asked for it, else not
    monkeypatch.setattr(tempfile, "tempdir", None)
    temp = {**server, "TMPDIR": "/scratch/job1"}
    assert admission.environment_difference(temp, server) == []
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    assert admission.environment_difference(temp, server) == ["TMPDIR"]


# -- jobs through a server started by hand -------------------------------------------------


@pytest.mark.slow
def test_a_job_runs_in_a_forked_child_like_smttask_run(server):
    root = server.root
    first, second = task_files(root, "scaled")[:2]
    through = server.job("run", "--quiet", "--attempt", "2", first)
    assert (through.returncode, through.stdout) == (0, f"scaling {argument(first)}\n")
    assert through.stderr == "1 ran, 0 loaded, 0 failed (of 1 task files).\n"
    assert len(forked_pids(server.text())) == 1
    fresh = run(BIN / "smttask", "run", "--quiet", "--attempt", "2", second, cwd=root)
    assert (fresh.returncode, fresh.stdout, fresh.stderr) == (
        0,
        f"scaling {argument(second)}\n",
        through.stderr,
    )
    again = server.job("run", "--quiet", first)  # loads what the first job computed
    assert again.stderr == "0 ran, 1 loaded, 0 failed (of 1 task files).\n"
    assert sorted(json.loads(t) for t in results(root).values()) == [
        2 * argument(first),
        2 * argument(second),
    ]
    recs = records(root)
    assert len(recs) == 2
    assert all("attempt:2" in tags for _, _, tags, _ in recs)
    assert {main for *_, main in recs} == {"js_tasks.py"}


@pytest.mark.slow
def test_a_failing_task_fails_the_same_way(server):
    root = server.root
    boom_task = root / "boom.json"
    ok(
        run(
            sys.executable, "-c", "from js_tasks import boom; boom(i=7).save('boom.json')", cwd=root
        )
    )
    through = server.job("run", "--quiet", boom_task)
    fresh = run(BIN / "smttask", "run", "--quiet", boom_task, cwd=root)
    assert through.returncode == fresh.returncode == 1
    blank = lambda text: re.sub(r"\d+\.\d+ s\b", "T s", text)  # noqa: E731
    assert blank(through.stderr) == blank(fresh.stderr)
    assert "boom 7" in through.stderr
    assert len(forked_pids(server.text())) == 1
    usage = server.job("run", "--no-such-option", boom_task)
    fresh_usage = run(BIN / "smttask", "run", "--no-such-option", boom_task, cwd=root)
    assert (
        (usage.returncode, usage.stderr)
        == (fresh_usage.returncode, fresh_usage.stderr)
        == (2, fresh_usage.stderr)
    )


@pytest.mark.slow
def test_a_changed_task_module_runs_its_new_code(server, project):
    """The server imported js_tasks for the first job; the module then changes (same size,
    same pinned version: the task files stay valid). The next job must run the new code, so
    the server refuses it (the client runs a fresh `smttask run`) and stops."""
    root = server.root
    first, second = task_files(root, "scaled")[1:3]  # i = 1, 2
    ok(server.job("run", "--quiet", first))
    project.write("js_tasks.py", TASKS.replace("return i * 2", "return i * 3"))
    project.commit("js_tasks.py")
    changed = server.job("run", "--quiet", second)
    assert changed.returncode == 0, changed.stderr
    values = {json.loads(t) for t in results(root).values()}
    assert values == {2 * argument(first), 3 * argument(second)}  # old code, then the new
    text = server.text()
    assert len(forked_pids(text)) == 1
    assert re.search(r"refused .*js_tasks\.py changed since the server imported it", text), text
    assert wait_gone(server.pid)  # it stops once it has nothing running


@pytest.mark.slow
def test_a_job_with_another_environment_runs_fresh(server):
    root = server.root
    job = server.job("run", "--quiet", task_files(root, "scaled")[0], OMP_NUM_THREADS="3")
    assert job.returncode == 0, job.stderr
    text = server.text()
    assert forked_pids(text) == []
    assert "environment differs from the server's in OMP_NUM_THREADS" in text
    inside = server.job("run", "--quiet", task_files(root, "scaled")[1], SLURM_JOB_ID="12")
    assert inside.returncode == 0, inside.stderr
    assert forked_pids(server.text()) == []  # the client did not even ask
    assert len(results(root)) == 2


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_client_kills_the_child(project, signum):
    pipeline = "from js_tasks import slow\n\ntasks = [slow(x=1.0)]\n"
    root = make_project(project, pipeline)
    export(root)
    server = Server(root)
    try:
        client = subprocess.Popen(
            [str(BIN / "smttask-job"), "run", "--quiet", str(task_files(root, "slow")[0])],
            cwd=root,
            env=env(SMTTASK_JOB_SOCKET=server.socket),
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not list(root.glob("slow.*.started")):
            assert client.poll() is None, client.stderr.read() if client.stderr else ""
            assert time.monotonic() < deadline, "the slow task never started"
            time.sleep(0.05)
        (child,) = forked_pids(server.text())
        assert [p.name for p in root.glob("slow.*.started")] == [f"slow.{child}.started"]
        client.send_signal(signum)
        assert client.wait(timeout=30) == -signum  # ended as the child did
        assert wait_gone(child), "the job's child outlived its client"
        assert not (root / "slow.finished").exists()
        assert alive(server.pid)  # the server goes on serving
    finally:
        server.stop()


@pytest.mark.slow
def test_a_task_module_holding_a_random_generator_runs_fresh(server, project):
    """Every child would get the generator in the state the server's import left it in
    (an unseeded one: smttask refuses its task files anyway, its code digest changes)."""
    project.write_module(
        "js_rng",
        "import numpy as np\nfrom smttask import RecordedTask\n\nRNG = np.random.default_rng(0)\n\n\n"
        "@RecordedTask\ndef draw(n: int) -> float:\n    return float(RNG.random() * n)\n",
    )
    root = server.root
    code = "from js_rng import draw; draw(n=3).save('draw.json')"
    ok(run(sys.executable, "-c", code, cwd=root))
    ok(server.job("run", "--quiet", "draw.json"))
    text = server.text()
    assert forked_pids(text) == []
    assert "module js_rng holds random generators made at import (RNG)" in text


@pytest.mark.slow
def test_a_child_ends_as_a_process_ends(server, project):
    """Its threads are waited for, its atexit handlers run, a file it left open is flushed."""
    project.write_module("js_untidy", UNTIDY)
    root = server.root
    code = "import sys; from js_untidy import untidy; untidy(x=int(sys.argv[1])).save(sys.argv[2])"
    for x, name in ((1, "served.json"), (2, "fresh.json")):
        ok(run(sys.executable, "-c", code, str(x), name, cwd=root))
    ok(server.job("run", "--quiet", "served.json"))
    assert len(forked_pids(server.text())) == 1
    ok(run(BIN / "smttask", "run", "--quiet", "fresh.json", cwd=root))
    for x in (1, 2):
        assert (root / f"left.{x}.txt").read_text() == "left open"
        assert (root / f"atexit.{x}.txt").read_text() == "atexit"
        assert (root / f"thread.{x}.txt").read_text() == "thread"


# -- whole workflows -----------------------------------------------------------------------


def snakemake(root: Path, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    return run(BIN / "snakemake", "-s", "build/Snakefile", "--cores", "2", *args, cwd=root, **extra)


@pytest.mark.slow
def test_a_workflow_through_the_server_gives_what_fresh_processes_give(project, tmp_path):
    root = make_project(project)
    export(root)
    ok(snakemake(root))
    text = server_log(root)
    assert len(forked_pids(text)) == 4, text  # every job forked by the server
    (pid,) = server_pids(text)
    assert not alive(pid)  # stopped when the workflow ended
    assert "stopped: asked to stop; 4 jobs forked, 0 refused" in text
    served = (results(root), job_logs(root), records(root))

    # the same workflow again, results gone, each job a fresh `smttask run`
    for p in ("data", "build", ".snakemake"):
        shutil.rmtree(root / p)
    export(root)
    ok(snakemake(root, SMTTASK_JOB_SERVER="0"))
    assert server_log(root) == ""  # no server started
    fresh = (results(root), job_logs(root), records(root))
    assert served[0] == fresh[0]  # the same result files, with the same contents
    assert served[1] == fresh[1]  # the same log text of each job
    assert len(served[2]) == 4
    assert fresh[2] == sorted(served[2] * 2)  # 4 more records, equal to the first 4


@pytest.mark.slow
def test_a_failing_workflow_leaves_no_server(project):
    root = make_project(project, FAILING)
    export(root)
    failed = snakemake(root, "--keep-going")
    assert failed.returncode != 0
    text = server_log(root)
    (pid,) = server_pids(text)
    assert len(forked_pids(text)) == 2
    assert not alive(pid)
    (log,) = (root / "build/logs/boom").glob("*.log")
    assert "boom 7" in log.read_text() and "FAILED" in log.read_text()
    assert (
        "1 ran, 0 loaded, 0 failed" in next((root / "build/logs/scaled").glob("*.log")).read_text()
    )


# -- git: asked by the server, not by each child -------------------------------------------


def counting_git(folder: Path) -> tuple[str, Path]:
    """A PATH whose `git` notes each call (the caller's pid, the arguments) in the file it
    returns, then runs the real git."""
    real = shutil.which("git")
    assert real is not None
    folder.mkdir()
    calls = folder / "calls.txt"
    script = folder / "git"
    script.write_text(f'#!/bin/sh\necho "$PPID $*" >> "{calls}"\nexec "{real}" "$@"\n')
    script.chmod(0o755)
    return f"{folder}{os.pathsep}{BIN}{os.pathsep}{os.environ.get('PATH', '')}", calls


def git_callers(calls: Path) -> list[int]:
    return (
        [int(line.split()[0]) for line in calls.read_text().splitlines()] if calls.exists() else []
    )


def versions(root: Path) -> list[str]:
    """The code version (commit) of every record."""
    code = (
        "import json, sys; from sumatra.projects import load_project; "
        "p = load_project(sys.argv[1]); "
        "print(json.dumps([r.version for r in p.record_store.list(p.name)]))"
    )
    ok(run(BIN / "smttask", "store", "flush", cwd=root))
    return sorted(json.loads(ok(run(sys.executable, "-c", code, str(root), cwd=root)).stdout))


@pytest.mark.slow
def test_the_children_of_a_workflow_run_no_git(project, tmp_path):
    """The server asks git once; its children record the commit without a git process."""
    root = make_project(project)
    export(root)
    path, calls = counting_git(tmp_path / "bin")
    ok(snakemake(root, PATH=path))
    text = server_log(root)
    (pid,) = server_pids(text)
    children = forked_pids(text)
    assert len(children) == 4 and "git state ready" in text, text
    callers = git_callers(calls)
    assert pid in callers  # (the counting works: the server asked git)
    assert not set(children) & set(callers), (children, calls.read_text())
    assert versions(root) == [project.git("rev-parse", "HEAD").strip()] * 4


@pytest.mark.slow
def test_jobs_start_the_client_without_site_while_a_server_serves(project, tmp_path):
    """A job's client starts as `python -S CLIENT` (no `site`: a few ms, not tens) while the
    run's server serves, and as the `smttask-job` command without one. A `sitecustomize`
    on the path notes every Python process that runs `site`."""
    hooks, log = tmp_path / "site", tmp_path / "site.log"
    hooks.mkdir()
    hook = hooks / "sitecustomize.py"
    hook.write_text(
        "import os, sys\n"
        "with open(os.environ['JS_SITE_LOG'], 'a') as f:\n"
        "    f.write(sys.argv[0] + '\\n')\n"
    )
    root = make_project(project)
    export(root)
    # (a server refuses jobs while a file it imported is younger than its start margin)
    age = time.time() - hook.stat().st_ctime
    time.sleep(max(0.0, START_MARGIN_NS / 1e9 + 0.2 - age))
    paths = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH")) if p)
    ok(snakemake(root, PYTHONPATH=paths, JS_SITE_LOG=str(log)))
    text = server_log(root)
    assert len(forked_pids(text)) == 4, text  # the clients handed every job over
    started = log.read_text().splitlines()
    assert any(a.endswith("smttask") for a in started), started  # (the hook works)
    assert not [a for a in started if a.endswith("smttask-job")], started

    for p in ("data", "build", ".snakemake"):
        shutil.rmtree(root / p)
    export(root)
    log.unlink()
    ok(snakemake(root, PYTHONPATH=paths, JS_SITE_LOG=str(log), SMTTASK_JOB_SERVER="0"))
    started = log.read_text().splitlines()
    assert len([a for a in started if a.endswith("smttask-job")]) == 4, started


@pytest.mark.slow
def test_a_change_after_the_server_started_is_seen_by_the_next_job(project, tmp_path):
    """An edit of a tracked file (not one the server imported) blocks the next job as it
    blocks a fresh `smttask run`; a commit is the next job's code version."""
    root = make_project(project)
    project.write("notes.txt", "v1\n")
    project.commit("notes.txt")
    export(root)
    path, calls = counting_git(tmp_path / "bin")
    server = Server(root, PATH=path)
    try:
        first, second, third = task_files(root, "scaled")[:3]
        ok(server.job("run", "--quiet", first))
        before = project.git("rev-parse", "HEAD").strip()
        assert not set(forked_pids(server.text())) & set(git_callers(calls))

        project.write("notes.txt", "v2\n")  # the same size
        blocked = server.job("run", "--quiet", second)
        fresh = run(BIN / "smttask", "run", "--quiet", second, cwd=root)
        assert blocked.returncode == fresh.returncode == 1
        assert "Uncommitted changes in tracked files" in blocked.stderr
        assert "notes.txt" in blocked.stderr

        project.commit("notes.txt")
        ok(server.job("run", "--quiet", third))
        after = project.git("rev-parse", "HEAD").strip()
        assert len(forked_pids(server.text())) == 3  # every job ran in a child
    finally:
        server.stop()
    assert versions(root) == sorted([before, after])
