"""End-to-end tests of scripts/services/{slurm,postgres} and the fixtures in
tests/services.py, against real services."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest


def _plugin_name() -> str:
    # The name tests/services.py is (or will be) imported under: a conftest.py
    # may already have registered it, and registering it again under another
    # name would load a second copy.
    here = Path(__file__).resolve().parent / "services.py"
    names = ("services", "tests.services")
    for name in names:
        origin = getattr(sys.modules.get(name), "__file__", None)
        if origin and Path(origin).resolve() == here:
            return name
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except ImportError:
            continue
        if spec and spec.origin and Path(spec.origin).resolve() == here:
            return name
    return "services"


# Loads the fixtures and markers when no conftest.py registers the plugin;
# a no-op when one already did.
pytest_plugins = [_plugin_name()]

# The plugin registers these markers, but pytest loads the plugins named above
# only after importing this module: don't warn about them here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", pytest.PytestUnknownMarkWarning)
    slurm = pytest.mark.slurm
    postgres = pytest.mark.postgres

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts" / "services"


def run(args, timeout=120, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (
        f"{' '.join(result.args)} exited with {result.returncode}:\n"
        f"{result.stdout}\n{result.stderr}"
    )
    return result


# ------------------------------------------------------------------ SLURM ---


def _slurm_pids(cluster) -> dict[str, str]:
    assert cluster.scratch is not None
    return {
        name: (cluster.scratch / "run" / f"{name}.pid").read_text().strip()
        for name in ("slurmctld", "slurmd")
    }


@slurm
def test_slurm_status_is_healthy(slurm_cluster):
    out = check(run([SCRIPTS_DIR / "slurm", "status"])).stdout
    assert "SLURM: healthy" in out
    assert re.search(rf"{slurm_cluster.node} (idle|mix|alloc)\b", out)  # alloc: busy, shared


@slurm
def test_slurm_start_twice_is_idempotent(slurm_cluster):
    before = _slurm_pids(slurm_cluster)
    for _ in range(2):
        out = check(run([SCRIPTS_DIR / "slurm", "start"])).stdout
        assert "already running and healthy" in out
    assert _slurm_pids(slurm_cluster) == before


@slurm
def test_sinfo_and_squeue(slurm_cluster):
    assert slurm_cluster.partition == "debug"
    assert slurm_cluster.node == "localhost"
    assert slurm_cluster.cpus >= 1 and slurm_cluster.memory_mb > 0
    env = slurm_cluster.env
    states = check(
        run(["sinfo", "-h", "-p", slurm_cluster.partition, "-o", "%t"], env=env)
    ).stdout.split()
    assert states and set(states) <= {"idle", "mix", "alloc", "comp"}
    check(run(["squeue", "-h"], env=env))


@slurm
def test_sbatch_job_writes_a_file(slurm_cluster, tmp_path):
    env = slurm_cluster.env
    result = check(
        run(
            [
                "sbatch",
                "--wait",
                "-p",
                slurm_cluster.partition,
                "-o",
                "slurm-%j.out",
                "--wrap",
                "echo hi > file",
            ],
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
    )
    m = re.search(r"Submitted batch job (\d+)", result.stdout)
    assert m, result.stdout
    job_id = m.group(1)
    assert (tmp_path / "file").read_text() == "hi\n"
    # Finished jobs stay visible to squeue (MinJobAge), which is what the
    # Snakemake SLURM plugin polls without accounting.
    state = check(
        run(["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"], env=env)
    ).stdout.strip()
    assert state == "COMPLETED"


@slurm
def test_slurm_enforces_a_jobs_memory_limit(slurm_cluster, tmp_path):
    out = check(run([SCRIPTS_DIR / "slurm", "status"])).stdout
    assert f"limits:    {slurm_cluster.limits} (" in out  # the mode, and why it was chosen
    assert slurm_cluster.limits in ("cgroup", "poll")
    hog = "a = bytearray(300 << 20); a[::4096] = b'x' * len(a[::4096]); import time; time.sleep(3)"
    result = run(
        ["sbatch", "--wait", "--mem=100", "-o", "slurm-%j.out", "--wrap", f'python3 -c "{hog}"'],
        cwd=tmp_path,
        env=slurm_cluster.env,
        timeout=300,
    )
    assert result.returncode != 0  # killed: 300 MB in a job of 100 MB
    job_id = re.search(r"Submitted batch job (\d+)", result.stdout).group(1)
    log = (tmp_path / f"slurm-{job_id}.out").read_text()
    state = check(
        run(["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"], env=slurm_cluster.env)
    ).stdout.strip()
    if slurm_cluster.limits == "cgroup":
        assert state == "OUT_OF_MEMORY" and "oom-kill event" in log, (state, log)
    else:
        assert state == "FAILED" and "exceeded memory limit" in log, (state, log)


def _alive(pid: str) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not re.search(r"^State:\s*Z", status, re.MULTILINE)  # zombies are dead


def _no_xdist_workers(request) -> None:
    if hasattr(request.config, "workerinput"):
        pytest.skip("stops the shared service, which other pytest-xdist workers may be using")


@slurm
def test_slurm_stop_then_start_again(slurm_cluster, request):
    _no_xdist_workers(request)
    script = SCRIPTS_DIR / "slurm"
    pids = _slurm_pids(slurm_cluster)
    check(run([script, "stop"]))
    assert not any(_alive(pid) for pid in pids.values())
    assert run([script, "status"]).returncode == 1
    check(run([script, "start"], timeout=300))
    assert "SLURM: healthy" in check(run([script, "status"])).stdout
    assert _slurm_pids(slurm_cluster) != pids


# ------------------------------------------------------------- PostgreSQL ---


@postgres
def test_postgres_status_is_healthy(postgres_server):
    out = check(run([SCRIPTS_DIR / "postgres", "status"])).stdout
    assert "PostgreSQL: healthy" in out
    assert f"127.0.0.1:{postgres_server.port}" in out
    assert check(run([SCRIPTS_DIR / "postgres", "dsn"])).stdout.strip() == postgres_server.dsn


@postgres
def test_postgres_start_twice_is_idempotent(postgres_server):
    def pid():
        out = check(run([SCRIPTS_DIR / "postgres", "status"])).stdout
        return re.search(r"running \(pid (\d+)\)", out).group(1)

    before = pid()
    for _ in range(2):
        result = check(run([SCRIPTS_DIR / "postgres", "start"]))
        assert result.stdout.strip().splitlines()[-1] == postgres_server.dsn
        assert "already running" in result.stderr
    assert pid() == before


@postgres
def test_postgres_roundtrip_in_fresh_database(postgres_dsn, postgres_server):
    import psycopg2

    assert postgres_dsn != postgres_server.dsn
    assert postgres_dsn.startswith(f"postgresql://smttask@127.0.0.1:{postgres_server.port}/t_")
    with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert cur.fetchone() == (0,)
        cur.execute("CREATE TABLE record (id serial PRIMARY KEY, label text NOT NULL)")
        cur.execute("INSERT INTO record (label) VALUES (%s) RETURNING id", ("first",))
        (row_id,) = cur.fetchone()
        cur.execute("SELECT label FROM record WHERE id = %s", (row_id,))
        assert cur.fetchone() == ("first",)
    conn.close()


@postgres
def test_each_request_gets_its_own_database(postgres_dsn, postgres_server):
    import psycopg2

    other = postgres_server.createdb()
    try:
        assert other != postgres_dsn
        with psycopg2.connect(other) as conn, conn.cursor() as cur:
            cur.execute("SELECT current_database(), current_user")
            assert cur.fetchone() == (other.rsplit("/", 1)[1], "smttask")
        conn.close()
    finally:
        postgres_server.dropdb(other.rsplit("/", 1)[1])
    listed = check(run([SCRIPTS_DIR / "postgres", "createdb", other.rsplit("/", 1)[1]]))
    assert listed.stdout.strip() == other  # dropped, so the name is free again
    postgres_server.dropdb(other.rsplit("/", 1)[1])


@postgres
def test_postgres_stop_then_start_again(postgres_server, request):
    _no_xdist_workers(request)
    script = SCRIPTS_DIR / "postgres"
    pid = re.search(r"running \(pid (\d+)\)", check(run([script, "status"])).stdout).group(1)
    check(run([script, "stop"]))
    assert not _alive(pid)
    assert run([script, "status"]).returncode == 1
    result = check(run([script, "start", "--port", str(postgres_server.port)], timeout=300))
    assert result.stdout.strip().splitlines()[-1] == postgres_server.dsn
