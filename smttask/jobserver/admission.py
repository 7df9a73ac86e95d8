"""Which jobs a warm job server may run: those a fresh ``smttask`` process would run the same.

A forked child inherits everything the server made at its start from its environment and
working folder: the interpreter's settings (``PYTHON*``, the locale, ``sys.path``), what
libraries read when they were imported (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
``MKL_*`` ..., ``SMTTASK_*``), caches of the working folder. So the rule is strict:

* The job's environment must equal the server's, except for the names in `PER_JOB`, which
  neither Python nor smttask read before a job runs (the child sets them as the job has
  them). The temporary folder variables (`TEMP_NAMES`) may differ too, as long as nothing in
  the server has asked for the temporary folder yet (``tempfile.tempdir`` is unset); else
  they must be equal as well.
* The job's working folder must be the server's (the same folder, by device and inode).
* Not inside a SLURM job (``SLURM_JOB_ID`` in the job's environment): its work must run in
  the job's allocation, not in a server outside it.
* Not while the server runs a thread besides the main one (a fork would copy a held lock).

Anything else is refused; the client then runs the job as a fresh ``smttask`` process.
Snakemake gives every job ``OMP_NUM_THREADS`` and its friends set to the job's ``threads``,
and the server is started the same way with ``threads`` 1: jobs of rules with more threads
differ there and run fresh.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Mapping

#: Names that may differ between the job and the server: the shell's bookkeeping and the
#: server's own address, switch and client (read by the Snakefile and the client only).
PER_JOB = frozenset(
    {"_", "SHLVL", "PWD", "OLDPWD", "SMTTASK_JOB_SOCKET", "SMTTASK_JOB_SERVER"}
    | {"SMTTASK_JOB_PYTHON", "SMTTASK_JOB_CLIENT"}
)
#: The temporary folder (Snakemake sets them per job from its ``tmpdir`` resource).
TEMP_NAMES = frozenset({"TMPDIR", "TEMP", "TMP", "TEMPDIR"})
#: How many differing names a refusal lists.
SHOWN = 6


def environment_difference(job: Mapping[str, str], server: Mapping[str, str]) -> list[str]:
    """The names whose values differ between `job` and `server` and must not (sorted)."""
    free = PER_JOB | TEMP_NAMES if tempfile.tempdir is None else PER_JOB
    names = (job.keys() | server.keys()) - free
    return sorted(n for n in names if job.get(n) != server.get(n))


def refusal(job_env: Mapping[str, str], cwd: str, server_env: Mapping[str, str]) -> str | None:
    """Why the server must not fork for a job with `job_env` in `cwd` (None: it may)."""
    if job_env.get("SLURM_JOB_ID"):
        return "the job runs inside a SLURM job (SLURM_JOB_ID is set)"
    if threading.active_count() != 1:
        names = ", ".join(t.name for t in threading.enumerate() if t is not threading.main_thread())
        return f"the server runs other threads ({names})"
    try:
        if not os.path.samestat(os.stat(cwd), os.stat(".")):
            return f"the job's working folder {cwd} is not the server's {os.getcwd()}"
    except OSError as exc:
        return f"the job's working folder {cwd} cannot be read ({exc})"
    differ = environment_difference(job_env, server_env)
    if differ:
        shown = ", ".join(differ[:SHOWN]) + (
            f" and {len(differ) - SHOWN} more" if len(differ) > SHOWN else ""
        )
        return f"the job's environment differs from the server's in {shown}"
    return None
