"""Task results on disk: the one owner of their paths, file names, formats and writing.

- ``layout``: where a result lives and what its file is called (and the inverse, ``parse``);
  invalidated names; the iterations of an iterative task found on disk.
- ``formats``: ``OutputFormat`` (bytes ⇄ value for some output annotations) and its registry.
- crash-safe, exclusive file writing comes from ``smttask.fileio`` (base layer).
- ``store``: ``FileOutputStore``, the ``hooks.OutputStore`` built from the three.
"""

from ..fileio import move_new, publish_new, replace_symlink, write_atomic
from .formats import (
    JsonFormat,
    NpyFormat,
    OutputFormat,
    format_for,
    format_with_extension,
    register_format,
    unregister_format,
)
from .layout import (
    INPUT_STORE,
    OUTPUT_STORE,
    DataRoots,
    PathOutside,
    ResultName,
    archive_at,
    archive_dir,
    file_name,
    inside,
    invalidated_name,
    is_invalidated,
    iteration_key,
    iterations_on_disk,
    link_at,
    link_dir,
    link_name,
    move_aside,
    parse,
)
from .store import FileOutputStore, decode_output

__all__ = [
    "INPUT_STORE",
    "OUTPUT_STORE",
    "DataRoots",
    "FileOutputStore",
    "JsonFormat",
    "NpyFormat",
    "OutputFormat",
    "PathOutside",
    "ResultName",
    "archive_at",
    "archive_dir",
    "decode_output",
    "file_name",
    "format_for",
    "format_with_extension",
    "inside",
    "invalidated_name",
    "is_invalidated",
    "iteration_key",
    "iterations_on_disk",
    "link_at",
    "link_dir",
    "link_name",
    "move_aside",
    "move_new",
    "parse",
    "publish_new",
    "register_format",
    "replace_symlink",
    "unregister_format",
    "write_atomic",
]
