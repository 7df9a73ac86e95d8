"""The cache of source digests: a fresh process does not read the source, and a stale or
mismatched cache entry never gives a wrong fingerprint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smttask import codecache, codeid
from smttask.stalecode import StaleCodeWarning

TEXT = "K = 2\n\ndef helper(x):\n    return x * K\n\ndef f(x):\n    return helper(x) + 1\n"

PROBE = """
import json, sys
import {name}
opened = []
sys.addaudithook(lambda e, a: opened.append(str(a[0])) if e == "open" else None)
import smttask.codeid as c
fp = c.fingerprint({name}.f)
print(json.dumps({{"digest": fp.digest, "how": [p.how for p in fp.parts],
                  "opened": [p for p in opened if p.endswith(".py") or "smttask-code" in p]}}))
"""


def probe(project, name: str, *, write: bool = True) -> dict:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project.root)}
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(name=name)],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_fresh_process_reads_the_cache_not_the_source(project):
    project.write("m_cc.py", TEXT)
    first = probe(project, "m_cc")
    assert any(p.endswith("m_cc.py") for p in first["opened"])  # computed from the source
    cache = codecache.cache_path(str(project.root / "m_cc.py"))
    assert cache is not None and os.path.exists(cache)
    again = probe(project, "m_cc")
    assert again["digest"] == first["digest"] and again["how"] == first["how"]
    assert [Path(p).name for p in again["opened"]] == [Path(cache).name]


def test_a_stale_cache_never_gives_a_wrong_fingerprint(project):
    path = project.write("m_stale.py", TEXT)
    before = probe(project, "m_stale")
    stat = path.stat()
    # Same size, same modification time, other code: the cache's file key still matches.
    path.write_text(TEXT.replace("x * K", "x - K"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    cache = Path(codecache.cache_path(str(path)) or "")
    # Python's own .pyc would be stale too (and run the old code): remove it, keep ours.
    for pyc in cache.parent.glob("m_stale.*.pyc"):
        pyc.unlink()
    after = probe(project, "m_stale")
    assert after["digest"] != before["digest"]
    cache.unlink()
    for pyc in cache.parent.glob("m_stale.*.pyc"):
        pyc.unlink()
    assert probe(project, "m_stale", write=False)["digest"] == after["digest"]


def test_a_cache_entry_for_other_code_is_not_used(project):
    path = project.write("m_tamper.py", TEXT)
    honest = probe(project, "m_tamper")
    cache = Path(codecache.cache_path(str(path)) or "")
    data = json.loads(cache.read_text())
    for entry in data["entries"].values():  # claim other source for code that is not this
        entry["digest"] = "0" * 32
        entry["code"] = "f" * 32
    cache.write_text(json.dumps(data))
    assert probe(project, "m_tamper")["digest"] == honest["digest"]


def test_running_code_older_than_the_file_and_its_cache(project):
    module = project.write_module("m_old", TEXT, commit=False)  # runs x * K
    project.write("m_old.py", TEXT.replace("x * K", "x * K * K"))
    newer = probe(project, "m_old")  # another process caches the new file
    with pytest.warns(StaleCodeWarning, match="helper runs the code imported before"):
        mine = codeid.fingerprint(module.f)
    assert (
        dict(zip([p.name for p in mine.parts], [p.how for p in mine.parts]))["m_old.helper"]
        == "bytecode"
    )
    assert mine.digest != newer["digest"]
