"""The exception hierarchy: one base class, one subclass per phase.

Every message says what happened, shows the offending value or path, and says how to fix it.
"""

from __future__ import annotations


class SmttaskError(Exception):
    """Base class of every error smttask raises on purpose."""


class ConfigError(SmttaskError):
    """The configuration (environment variables, project files) is invalid."""


class TaskDefinitionError(SmttaskError):
    """A function cannot become a task (missing annotations, unsupported parameters...)."""


class TaskInputError(SmttaskError):
    """A task was called with arguments that do not fit its signature or its types."""


class ParamError(TaskInputError):
    """A parameter collection is invalid: a field value of the wrong type, expanded fields of
    unequal lengths for ``inner()``, a random field without a seed..."""


class WorkflowError(SmttaskError):
    """A workflow module cannot run with the globals it was given (see ``run_workflow``)."""


class SerializationError(SmttaskError):
    """A value cannot be serialized to JSON or hashed into a digest."""


class TaskFileError(SmttaskError):
    """A task description (file, dict or JSON text) is malformed, truncated or unknown."""


class UnsafeContentError(SmttaskError):
    """A task file, record or result file asks for a module, type or name that smttask never
    imports or resolves from a file (see docs/security.md)."""


class FileWriteError(SmttaskError, OSError):
    """A file could not be written (disk full, read-only file system, no permission...). It
    names the folder and the file the user asked for (never a hidden temporary file) and is
    also the ``OSError`` it replaces (same ``errno``)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class TaskExecutionError(SmttaskError):
    """The task's own function raised. The original exception is the ``__cause__``."""


class OutputError(SmttaskError):
    """A task's outputs are missing, unreadable or do not match the declared type."""


class RunningElsewhereError(SmttaskError):
    """Another live process holds the task's lease (it is computing the task), and this run
    was asked not to wait for it (``smttask run --running-elsewhere exit``)."""


class RecordingError(SmttaskError):
    """The provenance record could not be created or stored."""


class DirtyRepositoryError(RecordingError):
    """The code repository has uncommitted changes outside the configured dirty directories."""


class ProjectError(RecordingError):
    """No Sumatra project was found, or it is misconfigured."""


class ReproductionError(SmttaskError):
    """A record cannot be re-run: its commit, task description, code or recorded inputs are
    missing, or the re-run could not start."""


class GraphError(SmttaskError):
    """The task graph is invalid (cycles, two tasks claiming one output...)."""


class CompileError(SmttaskError):
    """A task graph cannot be compiled into a workflow."""


class JobServerError(SmttaskError):
    """A job server (``smttask job-server``) could not be started, reached or stopped."""


def short_repr(value: object, limit: int = 80) -> str:
    """A one-line repr of `value` for error messages, cut to `limit` characters."""
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__} (repr failed: {exc})>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
