"""A warm job server for the jobs of an exported workflow (see ``docs/snakemake.md``).

A Snakemake job starts ``smttask-job run ...`` (the ``smttask_job`` client, which imports
only the standard library); the server, started once per workflow run with smttask and the
task modules imported, forks a child per job that runs what ``smttask run ...`` would.
Modules: ``control`` (start, stop, status), ``server`` (the loop and the children),
``admission`` (which jobs a warm process may run), ``stamps`` (changed source files),
``warmup`` (what is imported before a fork).
"""

from .control import JobServerError, request, servers, start, stop, supported

__all__ = ["JobServerError", "request", "servers", "start", "stop", "supported"]
