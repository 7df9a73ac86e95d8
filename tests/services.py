"""Pytest fixtures backed by real services: a single-node SLURM cluster and a
PostgreSQL server, both run by the scripts in ``scripts/services/``.

Register this module as a plugin, e.g. in the top-level ``conftest.py``::

    pytest_plugins = ["tests.services"]

It provides

* ``slurm_cluster`` (session): a :class:`SlurmCluster` for a running cluster;
* ``postgres_server`` (session): a :class:`PostgresServer` for a running server;
* ``postgres_dsn`` (function): the DSN of a new, empty database, dropped after
  the test;
* ``postgres_password_dsn`` (function): the DSN (without password) and the password
  of a new, empty database whose owner must give that password;

and registers the ``slurm`` and ``postgres`` markers; tests using these fixtures
get the marker automatically, so ``-m "not slurm"`` deselects them.

A service this session starts is stopped at the end of the session; one that
was already running is left running (and so is one started under
pytest-xdist, whose workers each have their own session). If a service cannot be started (say, not
root and the packages are missing), the tests that need it are skipped with
the reason, unless ``SMTTASK_REQUIRE_SERVICES=1``: then they fail with the
script's full error output.

Environment: ``SMTTASK_SERVICES_DIR`` (scratch folder for both services, read
by the scripts), ``SMTTASK_POSTGRES_PORT`` (port for a server this session
starts; default: the script's, 55432).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import uuid
import warnings
from pathlib import Path
from typing import Iterator, NoReturn, Sequence

import pytest

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts" / "services"
SLURM_SCRIPT = SCRIPTS_DIR / "slurm"
POSTGRES_SCRIPT = SCRIPTS_DIR / "postgres"
REQUIRE_ENV = "SMTTASK_REQUIRE_SERVICES"

# Starting may include `apt-get update && apt-get install`.
START_TIMEOUT = 900
COMMAND_TIMEOUT = 120


# ------------------------------------------------------------------ hooks ---

MARKERS = {
    "slurm": "needs a real SLURM cluster (fixture slurm_cluster)",
    "postgres": "needs a real PostgreSQL server (fixtures postgres_server, postgres_dsn)",
}


def pytest_configure(config: pytest.Config) -> None:
    known = {line.split(":", 1)[0].split("(", 1)[0].strip() for line in config.getini("markers")}
    for name, description in MARKERS.items():
        if name not in known:
            config.addinivalue_line("markers", f"{name}: {description}")


_MARK_BY_FIXTURE = {
    "slurm_cluster": "slurm",
    "postgres_server": "postgres",
    "postgres_dsn": "postgres",
    "postgres_password_dsn": "postgres",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the markers must be in place before `-m` deselects items.
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            mark = _MARK_BY_FIXTURE.get(fixture)
            if mark and item.get_closest_marker(mark) is None:
                item.add_marker(mark)


# ---------------------------------------------------------------- helpers ---


def services_required() -> bool:
    """True if services that cannot start must fail tests instead of skipping them."""
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


def run_script(
    script: Path, *args: str, timeout: float = COMMAND_TIMEOUT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a service script (`env`: variables added to the environment); never raises for a
    non-zero exit or a timeout."""
    try:
        return subprocess.run(
            [str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env} if env else None,
        )
    except subprocess.TimeoutExpired as exc:

        def text(b: bytes | str | None) -> str:
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")

        return subprocess.CompletedProcess(
            exc.cmd,
            124,
            text(exc.stdout),
            text(exc.stderr)
            + f"\nERROR: {script.name} {' '.join(args)} timed out after {timeout} s",
        )
    except OSError as exc:
        return subprocess.CompletedProcess(
            [str(script), *args], 127, "", f"ERROR: cannot run {script}: {exc}"
        )


def _summary(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("ERROR:"):
            return line
    return lines[-1] if lines else "no output"


def service_unavailable(what: str, result: subprocess.CompletedProcess[str]) -> NoReturn:
    """Skip the requesting test, or fail it if SMTTASK_REQUIRE_SERVICES=1."""
    output = (result.stderr + "\n" + result.stdout).strip()
    if services_required():
        pytest.fail(
            f"{what} could not be started ({REQUIRE_ENV}=1, so this is an error, "
            f"not a skip); `{' '.join(map(str, result.args))}` exited with "
            f"{result.returncode}:\n{output}",
            pytrace=False,
        )
    pytest.skip(f"{what} unavailable: {_summary(output)} (set {REQUIRE_ENV}=1 to fail instead)")


def _ensure_started(
    what: str, script: Path, start_args: Sequence[str] = ()
) -> tuple[bool, subprocess.CompletedProcess[str]]:
    """Start the service unless it is already healthy.

    Returns (started_here, result of `start`, or of `status` if it already ran).
    """
    if not script.is_file():
        service_unavailable(
            what,
            subprocess.CompletedProcess([str(script)], 127, "", f"ERROR: {script} does not exist"),
        )
    status = run_script(script, "status")
    if status.returncode == 0:
        return False, status
    # Running, but configured by an older version of the script: `start` reconfigures it; it
    # was not started here, so it is not stopped at the end either.
    outdated = "configuration outdated" in status.stdout
    result = run_script(script, "start", *start_args, timeout=START_TIMEOUT)
    if result.returncode != 0:
        service_unavailable(what, result)
    return not outdated, result


def _stop(what: str, script: Path) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Other workers may still be using it.
        return
    result = run_script(script, "stop")
    if result.returncode != 0:
        warnings.warn(
            f"stopping {what} failed: {(result.stderr + result.stdout).strip()}", stacklevel=1
        )


# ------------------------------------------------------------------ SLURM ---


@dataclasses.dataclass(frozen=True)
class SlurmCluster:
    """A running single-node SLURM cluster."""

    partition: str
    node: str
    cpus: int
    memory_mb: int
    conf: Path
    scratch: Path | None
    script: Path
    started_here: bool
    env: dict[str, str] = dataclasses.field(repr=False)
    limits: str = ""
    """How the cluster enforces memory limits: "cgroup" or "poll" (see
    `scripts/services/slurm --help`); "" if its slurm.conf does not say."""
    """Environment for SLURM commands and for programs that submit jobs: the
    current one, with SLURM_CONF set and the SLURM_* variables of any
    enclosing job removed."""

    @property
    def log_dir(self) -> Path | None:
        return self.scratch / "log" if self.scratch else None


def slurm_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLURM_", "SBATCH_", "SALLOC_", "SRUN_"))
    }
    env["SLURM_CONF"] = "/etc/slurm/slurm.conf"
    return env


def _describe_slurm(started_here: bool) -> SlurmCluster:
    env = slurm_env()
    conf = Path(env["SLURM_CONF"])
    info = subprocess.run(
        ["sinfo", "-h", "-o", "%R|%N|%c|%m|%P"],
        capture_output=True,
        text=True,
        env=env,
        timeout=COMMAND_TIMEOUT,
    )
    rows = [line.split("|") for line in info.stdout.splitlines() if line.count("|") == 4]
    if info.returncode != 0 or not rows:
        service_unavailable(
            "SLURM",
            subprocess.CompletedProcess(
                info.args,
                info.returncode or 1,
                info.stdout,
                f"ERROR: sinfo does not describe the cluster: {info.stderr.strip()}",
            ),
        )
    # Prefer the default partition (sinfo marks it with '*').
    row = next((r for r in rows if r[4].endswith("*")), rows[0])
    scratch = None
    limits = ""
    try:
        text = conf.read_text()
        m = re.search(r"^# smttask-scratch=(.+)$", text, re.MULTILINE)
        scratch = Path(m.group(1)) if m else None
        m = re.search(r"^# smttask-limits=(\w+)", text, re.MULTILINE)
        limits = m.group(1) if m else ""
    except OSError:
        pass
    return SlurmCluster(
        partition=row[0],
        node=row[1],
        cpus=int(row[2]),
        memory_mb=int(re.sub(r"\D", "", row[3]) or 0),
        conf=conf,
        scratch=scratch,
        script=SLURM_SCRIPT,
        started_here=started_here,
        env=env,
        limits=limits,
    )


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A running single-node SLURM cluster (started if needed)."""
    started_here, _ = _ensure_started("SLURM", SLURM_SCRIPT)
    try:
        yield _describe_slurm(started_here)
    finally:
        if started_here:
            _stop("SLURM", SLURM_SCRIPT)


# ------------------------------------------------------------- PostgreSQL ---


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    """A running PostgreSQL server on 127.0.0.1 with trust authentication."""

    dsn: str
    """DSN of the default database (`smttask`)."""
    script: Path
    started_here: bool

    @property
    def port(self) -> int:
        return int(self.dsn.rsplit(":", 1)[1].split("/", 1)[0])

    def createdb(self, name: str | None = None) -> str:
        """Create a new empty database and return its DSN."""
        name = name or f"t_{uuid.uuid4().hex[:20]}"
        result = run_script(self.script, "createdb", name)
        if result.returncode != 0:
            pytest.fail(
                f"creating database {name} failed:\n{(result.stderr + result.stdout).strip()}",
                pytrace=False,
            )
        return result.stdout.strip().splitlines()[-1]

    def password_db(self, password: str, name: str | None = None) -> str:
        """Create a new empty database owned by role ``smttask_pw``, which must log in with
        `password` (scram-sha-256, set on the role); return its DSN, without the password."""
        name = name or f"p_{uuid.uuid4().hex[:20]}"
        result = run_script(
            self.script, "password-db", name, env={"SMTTASK_POSTGRES_PASSWORD": password}
        )
        if result.returncode != 0:
            pytest.fail(
                f"creating database {name} failed:\n{(result.stderr + result.stdout).strip()}",
                pytrace=False,
            )
        return result.stdout.strip().splitlines()[-1]

    def dropdb(self, name: str) -> None:
        result = run_script(self.script, "dropdb", name)
        if result.returncode != 0:
            warnings.warn(
                f"dropping database {name} failed: {(result.stderr + result.stdout).strip()}",
                stacklevel=2,
            )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server (started if needed)."""
    port = os.environ.get("SMTTASK_POSTGRES_PORT", "").strip()
    started_here, _ = _ensure_started(
        "PostgreSQL", POSTGRES_SCRIPT, ["--port", port] if port else []
    )
    try:
        dsn = run_script(POSTGRES_SCRIPT, "dsn")
        if dsn.returncode != 0 or not dsn.stdout.strip():
            service_unavailable("PostgreSQL", dsn)
        yield PostgresServer(
            dsn=dsn.stdout.strip().splitlines()[-1],
            script=POSTGRES_SCRIPT,
            started_here=started_here,
        )
    finally:
        if started_here:
            _stop("PostgreSQL", POSTGRES_SCRIPT)


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """DSN of a new, empty database for this test; dropped afterwards."""
    dsn = postgres_server.createdb()
    yield dsn
    postgres_server.dropdb(dsn.rsplit("/", 1)[1])


@pytest.fixture
def postgres_password_dsn(postgres_server: PostgresServer) -> Iterator[tuple[str, str]]:
    """(DSN without the password, password) of a new, empty database for this test, whose
    owner must log in with that password; dropped afterwards."""
    password = f"pw-{uuid.uuid4().hex}"
    dsn = postgres_server.password_db(password)
    yield dsn, password
    postgres_server.dropdb(dsn.rsplit("/", 1)[1])
