"""A record journal is taken over only when its writer is silent, not merely because its
``flock`` could be taken (on Lustre ``localflock``, BeeGFS or NFS ``nolock`` another node
always can). Two real processes: a writer inside a task, whose lock is given up as a
node-local lock looks from elsewhere, and this test's process moving journals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from smttask import config
from smttask.recording import flush
from smttask.recording.journal import journal_dir
from smttask.recording.store import open_store

TASKS = """
import fcntl, time
from pathlib import Path
from smttask import RecordedTask


@RecordedTask
def hold(x: int, gate: str) -> int:
    from smttask.recording.recorder import RECORDER

    for project in RECORDER.projects.values():  # as a lock that stays on another node
        fcntl.flock(project._journal.fd, fcntl.LOCK_UN)
    Path(gate + ".inside").touch()
    while not Path(gate).exists():
        time.sleep(0.01)
    return x
"""


def test_a_journal_with_a_fresh_heartbeat_is_never_taken_over(smt_project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    smt_project.write(".gitignore", "gate*\n")
    smt_project.commit(".gitignore")
    smt_project.write_module("hb_tasks", TASKS)
    gate = smt_project.root / "gate"
    code = f"import hb_tasks; hb_tasks.hold(x=1, gate={str(gate)!r}).run()"
    writer = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=smt_project.root,
        env={**__import__("os").environ, "SMTTASK_LEASE_TIMEOUT": "1.5"},
    )
    try:
        deadline = time.monotonic() + 60
        while not (smt_project.root / "gate.inside").exists():
            assert writer.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        monkeypatch.setattr(config.settings, "lease_timeout", 1.5)
        [journal] = journal_dir(smt_project.root).glob("*.jsonl")
        for _ in range(3):  # over two timeouts: the lock is free, the heartbeat fresh
            report = flush(smt_project.root)
            assert (report.journals, report.killed) == (0, 0) and journal.exists()
            time.sleep(1.0)
        writer.send_signal(signal.SIGSTOP)  # alive, silent: a frozen node
        time.sleep(2.0)
        report = flush(smt_project.root)
        assert (report.journals, report.killed) == (1, 1) and not journal.exists()
        [record] = open_store().records()
        assert "_killed_" in record.tags
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
