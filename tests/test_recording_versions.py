"""The package versions a record lists are those importlib.metadata gives."""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys
from pathlib import Path

from smttask.recording.context import _ASK, _DistInfoIndex


def test_versions_are_those_of_importlib_metadata_for_every_installed_distribution() -> None:
    index = _DistInfoIndex()
    checked = 0
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        found = index.version(name)
        if found is _ASK:
            continue
        assert found == metadata.version(name), name
        checked += 1
    assert checked > 20  # the index answered for most of them
    assert index.version("no-such-distribution-here") is None
    assert index.version("no_such_distribution_here") is None


def test_a_recorded_process_does_not_import_importlib_metadata_for_installed_packages(
    tmp_path: Path,
) -> None:
    script = (
        "import sys, click\n"
        "from smttask.recording.context import Dependencies\n"
        "deps = {d['name']: d['version'] for d in Dependencies().current()}\n"
        "print(deps['click'], 'importlib.metadata' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [metadata.version("click"), "False"]
