"""The first cache hit in a fresh process does a bounded amount of work (no timing).

A new Python process imports smttask and the task module, then builds a task whose result
exists and calls ``run()``. Over that call (task construction included) a probe counts:

- files opened (``open`` audit events: ``open()``, ``os.open``, and the reads of modules
  imported on the way, each listed by path);
- modules imported (names new in ``sys.modules``);
- directory listings (``os.listdir``, ``os.scandir``, ``glob.glob`` audit events);
- processes started (``subprocess.Popen`` and ``os.system``/``os.exec*``/``os.posix_spawn``
  audit events): a hit asks git nothing;
- package-metadata look-ups (``importlib.metadata.Distribution.from_name`` and
  ``Distribution.discover``, which ``version()``, ``distribution()``, ``entry_points()`` and
  the others go through), slow on large environments;
- code compiled or generated (``compile`` and ``exec`` audit events): parsing the task's
  source (a code-identity cache miss), building a class with generated methods (a
  dataclass, a pydantic model).

Also, ``import smttask`` alone imports none of the heavy or process-level modules a hit never
needs (numpy, pydantic, scityping, package metadata, Sumatra, Django, the recorder's git,
network and platform probes).

The bounds are what the hit path does today; a change that makes a hit open more files,
import more modules, list folders, ask git or read package metadata fails here, and the
message lists what it did. Raise a bound only for a reason worth its cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_ENV

MODULE = """
from typing import Tuple

from scityping.numpy import Array

from smttask import RecordedTask


@RecordedTask
def analyze(arr: Array, dt: float, nbins: int) -> Tuple[float, float, float]:
    return float(arr.mean()), float(arr.std() * dt), float(nbins)


@RecordedTask
def scalars(a: float, b: int) -> float:
    return a * b + 1.0
"""

COMPUTE = """
import numpy as np
import hitmod
arr = np.random.default_rng(0).random(1_000_000)
np.save("arr.npy", arr)
hitmod.analyze(arr=arr, dt=0.5, nbins=2).run()
hitmod.scalars(a=1.5, b=2).run()
"""

PROBE = """
import importlib.metadata as md
import json
import sys

import numpy as np

import smttask
import hitmod

case = sys.argv[1]
if case == "array":
    arr = np.load("arr.npy")
    make = lambda: hitmod.analyze(arr=arr, dt=0.5, nbins=2)
else:
    make = lambda: hitmod.scalars(a=1.5, b=2)

seen = {"open": [], "listing": [], "process": [], "metadata": [], "compile": []}
active = [False]
PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                  "os.fork", "os.forkpty"}
LISTING_EVENTS = {"os.listdir", "os.scandir", "glob.glob"}


def hook(event, args):
    if not active[0]:
        return
    if event == "open":
        seen["open"].append(str(args[0]))
    elif event in LISTING_EVENTS:
        seen["listing"].append(f"{event} {args[0]!s}")
    elif event in PROCESS_EVENTS:
        seen["process"].append(f"{event} {args!r}"[:200])
    elif event in ("compile", "exec"):  # source parsed or compiled, generated code run
        seen["compile"].append(f"{event} {args[-1]!r}"[:200])


depth = [0]


def counting(name, original):
    def wrapper(cls, *args, **kwargs):
        if active[0] and depth[0] == 0:  # from_name calls discover: count the outer call
            seen["metadata"].append(f"{name}{args!r}")
        depth[0] += 1
        try:
            return original.__func__(cls, *args, **kwargs)
        finally:
            depth[0] -= 1
    return classmethod(wrapper)


for name in ("from_name", "discover"):
    setattr(md.Distribution, name, counting(name, getattr(md.Distribution, name)))
sys.addaudithook(hook)

before = set(sys.modules)
active[0] = True
task = make()
result = task.run()
active[0] = False
seen["modules"] = sorted(set(sys.modules) - before)
seen["computed"] = task.computed
seen["result"] = result if case == "scalar" else list(result)
print(json.dumps(seen))
"""

#: Upper bounds of today's hit path, per case (see the module docstring). Both cases read the
#: result file and nothing else: the code-identity cache of the task module (the source
#: digests beside its bytecode, ``smttask.codecache``: the module's source is not read) and
#: ``.smt/project`` (the data store roots) are read when the task type is defined; no module
#: is imported (the validators of inputs and outputs and hashing of array inputs are made
#: then too), and no package metadata is read (scityping's models ask it for pydantic's
#: version; smttask answers from ``pydantic.VERSION``).
BOUNDS = {
    "array": {"open": 1, "modules": 0, "listing": 0, "process": 0, "metadata": 0, "compile": 0},
    "scalar": {"open": 1, "modules": 0, "listing": 0, "process": 0, "metadata": 0, "compile": 0},
}


def _run(code: str, root: Path, *args: str, record: bool = True, cache: bool = False) -> str:
    env = {
        **os.environ,
        "SMTTASK_RECORD": "1" if record else "0",
        "SMTTASK_PROJECT_ROOT": str(root),
        "PYTHONPATH": str(root),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not cache:  # the probe writes nothing: what it opens is what an earlier run left
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def results_on_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hit") / "project"
    root.mkdir()
    (root / "hitmod.py").write_text(textwrap.dedent(MODULE))
    (root / ".gitignore").write_text("data/\narr.npy\n")
    env = {**os.environ, **GIT_ENV}
    for cmd in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "t"]):
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
    smttask = str(Path(sys.executable).with_name("smttask"))
    subprocess.run([smttask, "project", "init", "--yes"], cwd=root, env=env, check=True,
                   capture_output=True)  # fmt: skip
    _run(COMPUTE, root, record=False, cache=True)
    return root


@pytest.mark.parametrize("case", ["array", "scalar"])
def test_first_hit_does_bounded_work(results_on_disk: Path, case: str) -> None:
    seen: dict[str, Any] = json.loads(_run(PROBE, results_on_disk, case).splitlines()[-1])
    assert seen["computed"] is False, "the probe recomputed instead of loading the result"
    expected = [0.4998, 0.1443, 2.0] if case == "array" else 4.0
    assert seen["result"] == pytest.approx(expected, abs=1e-3)
    outputs = [p for p in seen["open"] if "run_dump" in p or f"{os.sep}data{os.sep}" in p]
    assert outputs, f"the result file was not seen being opened (probe broken?): {seen['open']}"
    for what, bound in BOUNDS[case].items():
        assert len(seen[what]) <= bound, (
            f"The first hit ({case}) did more {what!r} than the {bound} allowed: "
            f"{len(seen[what])}: {seen[what][:30]}"
        )


#: Modules ``import smttask`` must not import: a task type, a value, a record or a command
#: brings them in when it needs them.
NOT_ON_IMPORT = (
    "numpy",
    "pydantic",
    "scityping",
    "xxhash",
    "importlib.metadata",
    "sumatra",
    "django",
    "networkx",
    "jinja2",
    "click",
    "rich",
    "subprocess",  # git, asked by the recorder only
    "socket",  # host names of leases and journals
    "platform",  # a record's machine description
    "mimetypes",  # a record's output list
    "shutil",
    "tempfile",  # output folders
    "smttask.recording.recorder",
    "smttask.recording.journal",
    "smttask.recording.gitstate",
    "smttask.recording.projectfile",  # read when a task type or a session needs the project
    "smttask.storage",  # result files: when a task type is defined or a session opened
    "secrets",  # (with random and hmac) temporary names come from os.urandom
)


def test_import_smttask_stays_light() -> None:
    code = "import sys, smttask, json; print(json.dumps(sorted(sys.modules)))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMTTASK_")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    heavy = [m for m in NOT_ON_IMPORT if m in loaded]
    assert not heavy, f"`import smttask` imported {heavy}: import them where they are used"


#: A task module with scityping types, defined and its first result loaded, then scityping's
#: pydantic models used as a user would: what each step finds imported, and the versions.
DEFINE = """
import json, sys
import numpy as np
import smttask
import hitmod
defined = "importlib.metadata" in sys.modules
hitmod.scalars(a=1.5, b=2).run()
hit = "importlib.metadata" in sys.modules
import pydantic
import scityping.pydantic as sp

class Point(sp.BaseModel):
    x: float

import importlib.metadata as md
print(json.dumps({
    "defined": defined, "hit": hit, "pydantic": sp.version("pydantic"),
    "pydantic_metadata": md.version("pydantic"), "numpy": sp.version("numpy"),
    "numpy_metadata": md.version("numpy"), "point": Point(x=2.0).json(),
    "import_restored": sp.__builtins__["__import__"] is __import__,
}))
"""


def test_defining_a_scityping_task_type_does_not_import_package_metadata(
    results_on_disk: Path,
) -> None:
    """``importlib.metadata`` costs 15-30 ms to import; scityping's pydantic glue imports it
    for one look-up that smttask answers from ``pydantic.VERSION``. That module still works
    as scityping wrote it, and answers every package's version as the metadata does."""
    seen = json.loads(_run(DEFINE, results_on_disk).splitlines()[-1])
    assert seen["defined"] is False, "defining the task types imported importlib.metadata"
    assert seen["hit"] is False, "the first hit imported importlib.metadata"
    assert seen["pydantic"] == seen["pydantic_metadata"]
    assert seen["numpy"] == seen["numpy_metadata"]
    assert seen["point"] == '{"x": 2.0}'
    assert seen["import_restored"] is True


def test_scityping_pydantic_imported_first_by_the_user_is_used_as_it_is(
    results_on_disk: Path,
) -> None:
    code = (
        "import importlib.metadata, scityping.pydantic as sp, hitmod, json\n"
        "print(json.dumps([sp.__builtins__ is __builtins__ or "
        "sp.__builtins__ is vars(__builtins__), hitmod.scalars(a=1.5, b=2).run()]))\n"
    )
    assert json.loads(_run(code, results_on_disk).splitlines()[-1]) == [True, 4.0]
