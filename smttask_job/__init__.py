"""``smttask-job ARGS...``: run ``smttask ARGS...`` through a warm job server, if one serves.

A Snakemake job of an exported workflow starts this small program instead of ``smttask``.
It imports only the standard library (not the ``smttask`` package, whose import is what the
server saves). It connects to the job server named by ``SMTTASK_JOB_SOCKET``, hands it the
job (its standard input, output and error, arguments, working folder and environment), waits
for the exit status and exits with it: the server forks a child that runs exactly what
``smttask ARGS...`` would run.

Whenever the server cannot take the job (no server, the server refuses it, it is switched
off with ``SMTTASK_JOB_SERVER=0``, the job runs inside a SLURM job, its output is a
terminal), this process becomes
``smttask ARGS...`` itself (``os.execvp``): a job never fails because of the server.

Signals this process gets (Snakemake cancelling a job: SIGTERM; Ctrl-C: SIGINT) are passed on
to the child; if this process dies (SIGKILL), the server kills the child.

The wire format (one datagram per message on a ``SOCK_SEQPACKET`` Unix socket, JSON):
the client sends ``{"v": 1, "job": {"argv", "cwd", "env"}}`` with its fds 0, 1, 2 attached;
the server answers ``{"accepted": PID}`` or ``{"refused": REASON}``; the client may then send
``{"signal": N}``; the server ends with ``{"exit": CODE}`` or ``{"killed": N}`` (the child
died of signal N). Control messages (``{"v": 1, "status": true}``, ``{"v": 1, "stop": true}``)
get one answer.
"""

from __future__ import annotations

import _signal as signal  # the C modules: what this process needs, without the Python layers
import _socket as socket
import os
import sys
from _json import encode_basestring_ascii as _quoted

#: Version of the wire format (a server answers only its own).
PROTOCOL = 1
#: Environment variable with the path of the server's socket (set by the Snakefile).
SOCKET_ENV = "SMTTASK_JOB_SOCKET"
#: Environment variable switching the server off (0/false/no/off).
SWITCH_ENV = "SMTTASK_JOB_SERVER"
#: The largest message either side sends or reads (the environment is the big part).
MAX_MESSAGE = 1 << 20
#: The command run when no server takes the job.
COMMAND = "smttask"
#: Signals passed on to the child.
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")

_OFF = {"0", "false", "no", "off"}


def switched_off(env: os._Environ[str] | dict[str, str]) -> bool:
    """Whether ``SMTTASK_JOB_SERVER`` switches the server off in `env`."""
    return env.get(SWITCH_ENV, "").strip().lower() in _OFF


def job_message(argv: list[str], cwd: str, env: os._Environ[str] | dict[str, str]) -> bytes:
    """The JSON of a job (written here without the ``json`` package, whose import would
    cost every job more than the writing)."""
    items = ",".join(f"{_quoted(k)}:{_quoted(v)}" for k, v in env.items())
    args = ",".join(_quoted(a) for a in argv)
    job = f'{{"argv":[{args}],"cwd":{_quoted(cwd)},"env":{{{items}}}}}'
    return f'{{"v":{PROTOCOL},"job":{job}}}'.encode()


def answer(data: bytes) -> tuple[str, int | str]:
    """The key and value of a one-key answer of the server (``{"exit":0}``); ("", "") if
    `data` is not one."""
    text = data.decode("utf-8", "replace")
    key, colon, value = text[2:-1].partition('":')
    if not (text.startswith('{"') and text.endswith("}") and colon):
        return "", ""
    digits = value[1:] if value.startswith("-") else value
    return key, int(value) if digits.isdigit() else value


def main() -> None:
    argv = sys.argv[1:]
    path = os.environ.get(SOCKET_ENV, "")
    if (
        not path
        or switched_off(os.environ)
        or os.environ.get("SLURM_JOB_ID")
        or os.isatty(1)  # a terminal: Python and rich set up their output for it at start
        or os.isatty(2)
    ):
        _fresh(argv)
    conn = _hand_over(path, argv)
    if conn is None:
        _fresh(argv)
    else:
        sys.exit(_wait(conn))


def _fresh(argv: list[str]) -> None:
    """Become ``smttask ARGV`` (never returns)."""
    sys.stdout.flush()
    os.execvp(COMMAND, [COMMAND, *argv])


def _hand_over(path: str, argv: list[str]) -> socket.socket | None:
    """The connection to the server that took the job, or None if none did."""
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    except OSError:
        return None
    try:
        conn.connect(path)
        fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))  # C ints
        message = job_message(argv, os.getcwd(), os.environ)
        conn.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        key, value = answer(conn.recv(MAX_MESSAGE))
    except (OSError, ValueError):
        conn.close()
        return None
    if key != "accepted" or not isinstance(value, int):
        conn.close()
        return None
    return conn


def _wait(conn: socket.socket) -> int:
    """Pass signals on until the server says how the child ended; the exit code."""

    def forward(signum: int, frame: object) -> None:
        try:  # noqa: SIM105 (contextlib: one more import for every job)
            conn.send(b'{"signal":%d}' % signum)
        except OSError:
            pass

    for name in FORWARDED:
        signal.signal(getattr(signal, name), forward)
    while True:
        try:
            data = conn.recv(MAX_MESSAGE)
        except OSError:
            data = b""
        if not data:
            sys.stderr.write(
                "smttask-job: the job server ended before the job did (it was stopped or "
                "killed), so the job was stopped. Run it again; SMTTASK_JOB_SERVER=0 runs "
                "jobs without the server.\n"
            )
            return 1
        key, value = answer(data)
        if key == "exit" and isinstance(value, int):
            return value
        if key == "killed" and isinstance(value, int):
            _die_of(value)


def _die_of(signum: int) -> None:
    """End this process by signal `signum`, as the child ended (the shell sees 128 + N)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
        os.kill(os.getpid(), signum)
    except (OSError, ValueError):
        pass
    os._exit(128 + signum)


if __name__ == "__main__":
    main()
