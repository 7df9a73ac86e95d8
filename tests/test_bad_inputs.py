"""The bad-input corpus: every bad input gets one clear sentence, an exit code other than 0, no
traceback, and nothing written.

Each case runs the real entry point (``smttask.cli.main``) in this process, in one shared
project, and checks:

* the exit code;
* the output holds no ``Traceback`` and no bare Python exception (a line starting with
  ``SomethingError:``);
* the message appears exactly once and names the culprit (every string of ``names``);
* the project's files are unchanged (the record database aside): nothing partial was written.

A few cases need a real process (the environment read at start-up, a closed pipe, Ctrl-C):
they are at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import GIT_ENV, Project

SMTTASK = str(Path(sys.executable).with_name("smttask"))

TASKS = """
from typing import List
from smttask import MemoizedTask, RecordedTask
from scityping.numpy import Array

@RecordedTask
def square(x: int) -> int:
    return x * x

@RecordedTask
def total(xs: List[int]) -> int:
    return sum(xs)

@RecordedTask
def mean(arr: Array) -> float:
    return float(arr.mean())

@MemoizedTask
def inc(x: float) -> float:
    return x + 1

@RecordedTask
def after(y: float) -> float:
    return y

@RecordedTask
def text(n: int) -> str:
    return "x" * n

class Values(dict):
    def values(self):
        raise RuntimeError("the values cannot be listed")

def _deep():
    value = [square(x=1)]
    for _ in range(100_000):
        value = [value]
    return value

good = [square(x=2)]
empty = []
number = 42
kind = square
broken_mapping = Values(a=square(x=1))
too_deep = _deep()
"""

#: Modules that fail to import, each its own way.
MODULES = {
    "missing_import": "import no_such_package_xyz\n",
    "bad_syntax": "def f(:\n",
    "raises_at_import": "raise ValueError('the module refuses to load')\n",
    "bad_name_attr": "from smttask import RecordedTask\nx = 1\n",
}


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    names: tuple[str, ...]  # strings the message must hold (the culprit, the problem)
    code: int = 1
    env: dict[str, str] = field(default_factory=dict)
    #: text that must appear exactly once (default: "Error:", the one line of a failure)
    once: str = "Error:"
    #: text that must not appear (a password)
    absent: tuple[str, ...] = ()


def taskfile(name: str) -> str:
    return f"bad/{name}.json"


GOOD: dict[str, Any] = {
    "smttask_format": 2,
    "task": "square",
    "module": "bi_tasks",
    "kind": "RecordedTask",
    "inputs": {"x": 3},
}


def variant(**changes: Any) -> dict[str, Any]:
    desc = {**GOOD, **changes}
    return {k: v for k, v in desc.items() if v is not DROP}


DROP = object()


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def scityping_ref(module: str, name: str) -> Any:
    return ["scityping.base_types.Type", {"module": module, "name": name}]


#: Task files of the corpus: name -> bytes (written into bad/ before the cases run).
TASK_FILES: dict[str, bytes] = {
    "empty": b"",
    "blank": b"  \n\t\n",
    "text": b"hello, world\n",
    "truncated": json.dumps(GOOD).encode()[:-9],
    "list": b"[1, 2, 3]",
    "number": b"42",
    "string": b'"square"',
    "null": b"null",
    "no_format": json.dumps({"task": "square", "module": "bi_tasks"}).encode(),
    "format_zero": json.dumps(variant(smttask_format=0)).encode(),
    "format_future": json.dumps(variant(smttask_format=99)).encode(),
    "format_text": json.dumps(variant(smttask_format="one")).encode(),
    "no_task": json.dumps(variant(task=DROP)).encode(),
    "task_number": json.dumps(variant(task=7)).encode(),
    "no_module": json.dumps(variant(module=DROP)).encode(),
    "module_bad_name": json.dumps(variant(module="1 bad-name")).encode(),
    "module_main": json.dumps(variant(module="__main__")).encode(),
    "module_os": json.dumps(variant(module="os", task="system")).encode(),
    "module_this": json.dumps(variant(module="this", task="s")).encode(),
    "module_subprocess": json.dumps(variant(module="subprocess", task="run")).encode(),
    "module_missing": json.dumps(variant(module="no_such_module_xyz")).encode(),
    "module_syntax": json.dumps(variant(module="bad_syntax")).encode(),
    "module_raises": json.dumps(variant(module="raises_at_import")).encode(),
    "module_missing_import": json.dumps(variant(module="missing_import")).encode(),
    "task_unknown": json.dumps(variant(task="cube")).encode(),
    "task_not_a_task": json.dumps(variant(task="RecordedTask")).encode(),
    "task_dotted": json.dumps(variant(task="square.__globals__")).encode(),
    "inputs_list": json.dumps(variant(inputs=[3])).encode(),
    "inputs_missing": json.dumps(variant(inputs={})).encode(),
    "inputs_extra": json.dumps(variant(inputs={"x": 3, "y": 4})).encode(),
    "input_text": json.dumps(variant(inputs={"x": "three"})).encode(),
    "input_float": json.dumps(variant(inputs={"x": 1.7})).encode(),
    "input_numeric_text": json.dumps(variant(inputs={"x": "3"})).encode(),
    "input_bool": json.dumps(variant(inputs={"x": True})).encode(),
    "input_null": json.dumps(variant(inputs={"x": None})).encode(),
    "input_nan": b'{"smttask_format": 2, "task": "square", "module": "bi_tasks", '
    b'"kind": "RecordedTask", "inputs": {"x": NaN}}',
    "input_overflow": b'{"smttask_format": 2, "task": "square", "module": "bi_tasks", '
    b'"kind": "RecordedTask", "inputs": {"x": 1e999}}',
    "input_underflow": b'{"smttask_format": 2, "task": "inc", "module": "bi_tasks", '
    b'"kind": "MemoizedTask", "inputs": {"x": 1e-999}}',
    "input_long_int": b'{"smttask_format": 2, "task": "square", "module": "bi_tasks", '
    b'"kind": "RecordedTask", "inputs": {"x": ' + b"9" * 5000 + b"}}",
    "list_of_floats": json.dumps(variant(task="total", inputs={"xs": [1.7, 2.2]})).encode(),
    "list_is_dict": json.dumps(variant(task="total", inputs={"xs": {"a": 1}})).encode(),
    "deep_json": b"[" * 100_000 + b"]" * 100_000,
    "deep_file": json.dumps(variant(inputs={"x": nested(300)})).encode(),
    "deep_value": json.dumps(variant(task="total", inputs={"xs": nested(150)})).encode(),
    "digest_mismatch": json.dumps(variant(digest="0123456789abcdef0123")).encode(),
    "digest_number": json.dumps(variant(digest=12)).encode(),
    "not_utf8": b'{"smttask_format": 2, "task": "sq\xff\xfeare"}',
    "utf16": json.dumps(GOOD).encode("utf-16"),
    "nul_bytes": b"\x00" * 64,
    "type_ref_main": json.dumps(
        variant(task="mean", inputs={"arr": scityping_ref("__main__", "__builtins__.open")})
    ).encode(),
    "type_ref_builtins": json.dumps(
        variant(task="mean", inputs={"arr": scityping_ref("builtins", "eval")})
    ).encode(),
    "type_ref_os": json.dumps(
        variant(task="mean", inputs={"arr": scityping_ref("os", "system")})
    ).encode(),
    "array_garbage": json.dumps(
        variant(task="mean", inputs={"arr": ["scityping.numpy.Array", {"data": "%%%"}]})
    ).encode(),
    "upstream_bad": json.dumps(
        variant(task="after", inputs={"y": {"smttask_format": 2, "task": "nope"}})
    ).encode(),
    "upstream_module_os": json.dumps(
        variant(
            task="after",
            inputs={"y": {"smttask_format": 2, "task": "getcwd", "module": "os", "inputs": {}}},
        )
    ).encode(),
}


def run_cases() -> list[Case]:
    """`smttask run` of each bad task file: the file is named, with what is wrong."""
    fragments = {
        "empty": "looks truncated",
        "blank": "looks truncated",
        "text": "not valid JSON",
        "truncated": "looks truncated",
        "list": "",
        "number": "",
        "string": "",
        "null": "",
        "no_format": "",
        "format_zero": "",
        "format_future": "",
        "format_text": "",
        "no_task": "",
        "task_number": "",
        "no_module": "",
        "module_bad_name": "not a module name",
        "module_main": "__main__",
        "module_os": "'os'",
        "module_this": "'this'",
        "module_subprocess": "'subprocess'",
        "module_missing": "no_such_module_xyz",
        "module_syntax": "syntax error",
        "module_raises": "the module refuses to load",
        "module_missing_import": "no_such_package_xyz",
        "task_unknown": "'cube'",
        "task_not_a_task": "'RecordedTask'",
        "task_dotted": "square.__globals__",
        "inputs_list": "",
        "inputs_missing": "x",
        "inputs_extra": "y",
        "input_text": "three",
        "input_float": "1.7",
        "input_numeric_text": "'3'",
        "input_bool": "True",
        "input_null": "None",
        "input_nan": "nan",
        "input_overflow": "1e999",
        "input_underflow": "1e-999",
        "input_long_int": "too many digits",
        "list_of_floats": "1.7",
        "list_is_dict": "xs",
        "deep_json": "nested deeper than 256",
        "deep_file": "nested more than 256",
        "deep_value": "nested more than",
        "digest_mismatch": "0123456789",
        "digest_number": "",
        "not_utf8": "not UTF-8",
        "utf16": "",
        "nul_bytes": "",
        "type_ref_main": "__main__",
        "type_ref_builtins": "builtins",
        "type_ref_os": "os",
        "array_garbage": "arr",
        "upstream_bad": "",
        "upstream_module_os": "'os'",
    }
    assert set(fragments) == set(TASK_FILES)
    return [
        Case(
            f"run-{name}",
            ("run", "--no-record", taskfile(name)),
            (taskfile(name), *([fragment] if fragment else [])),
            once=f"FAILED {taskfile(name)}",
        )
        for name, fragment in fragments.items()
    ]


SPECIAL_FILES = [
    Case(
        f"run-{cid}",
        ("run", "--no-record", path),
        (path, words),
        once=f"FAILED {path}",
    )
    for cid, path, words in [
        ("fifo", "special/fifo.json", "FIFO"),
        ("device", "/dev/zero", "device"),
        ("dangling-link", "special/dangling.json", "does not exist"),
        ("too-large", "special/huge.json", "more than the 104857600"),
        ("missing", "nope.json", "No such task file"),
    ]
]

RUN_ARGS = [
    Case("run-no-paths", ("run",), ("Missing argument", "PATHS"), code=2),
    Case(
        "run-missing-among-good",
        ("run", "--no-record", "nope.json", "good"),
        ("nope.json", "No such task file", "1 loaded, 1 failed"),
        once="FAILED nope.json",
    ),
    Case(
        "run-bad-among-good",
        ("run", "--no-record", taskfile("text"), "good"),
        (taskfile("text"), "not valid JSON", "1 loaded, 1 failed"),
        once=f"FAILED {taskfile('text')}",
    ),
    Case(
        "run-folder-named-json",
        ("run", "special/folder.json/inner.json"),
        ("special/folder.json/inner.json", "No task files"),
        code=2,
    ),
    Case("run-empty-folder", ("run", "emptydir"), ("No task files", "emptydir"), code=2),
    Case("run-cores-zero", ("run", "-n", "0", "good"), ("--cores", "0"), code=2),
    Case("run-cores-text", ("run", "-n", "many", "good"), ("--cores", "many"), code=2),
    Case("run-attempt-zero", ("run", "--attempt", "0", "good"), ("--attempt", "0"), code=2),
    Case("run-unknown-option", ("run", "--fast", "good"), ("--fast",), code=2),
]

EXPORT = [
    Case("export-no-target", ("export-snakemake",), ("TARGETS",), code=2),
    Case(
        "export-missing-import",
        ("export-snakemake", "missing_import.py:tasks", "-o", "build"),
        ("missing_import", "no_such_package_xyz", "missing_import.py, line 1"),
    ),
    Case(
        "export-syntax-error",
        ("export-snakemake", "bad_syntax.py:tasks", "-o", "build"),
        ("bad_syntax", "syntax error", "line 1"),
    ),
    Case(
        "export-raises-at-import",
        ("export-snakemake", "raises_at_import.py:tasks", "-o", "build"),
        ("raises_at_import", "ValueError: the module refuses to load"),
    ),
    Case(
        "export-no-module",
        ("export-snakemake", "no_such_module:tasks", "-o", "build"),
        ("no_such_module",),
    ),
    Case(
        "export-missing-file",
        ("export-snakemake", "sub/none.py:tasks", "-o", "build"),
        ("sub/none.py", "does not exist"),
    ),
    Case(
        "export-python-file",
        ("export-snakemake", "bi_tasks.py", "-o", "build"),
        ("bi_tasks.py", "name the variable"),
    ),
    Case(
        "export-no-attribute",
        ("export-snakemake", "bi_tasks.py:nothing", "-o", "build"),
        ("'nothing'", "bi_tasks"),
    ),
    Case(
        "export-empty",
        ("export-snakemake", "bi_tasks.py:empty", "-o", "build"),
        ("bi_tasks.py:empty", "empty"),
    ),
    Case(
        "export-not-a-task",
        ("export-snakemake", "bi_tasks.py:number", "-o", "build"),
        ("bi_tasks.py:number", "int 42"),
    ),
    Case(
        "export-task-type",
        ("export-snakemake", "bi_tasks.py:kind", "-o", "build"),
        ("bi_tasks.py:kind", "task type square"),
    ),
    Case(
        "export-outside-project",
        ("export-snakemake", "/tmp/../tmp/elsewhere_xyz.py:tasks", "-o", "build"),
        ("elsewhere_xyz.py",),
    ),
    Case(
        "export-not-identifier",
        ("export-snakemake", "bad-name.py:tasks", "-o", "build"),
        ("bad-name.py", "not a dotted Python name"),
    ),
    Case(
        "export-bad-taskfile",
        ("export-snakemake", taskfile("text"), "-o", "build"),
        (taskfile("text"), "not valid JSON"),
    ),
    Case(
        "export-folder-with-bad-taskfile",
        ("export-snakemake", "bad", "-o", "build"),
        ("task file bad/",),
    ),
    Case(
        "export-missing-taskfile",
        ("export-snakemake", "nope.json", "-o", "build"),
        ("nope.json", "No such task file"),
    ),
    Case(
        "export-unexpected-error",
        ("export-snakemake", "bi_tasks.py:broken_mapping", "-o", "build"),
        ("RuntimeError", "the values cannot be listed", "with -v"),
    ),
    Case(
        "export-recursion",
        ("export-snakemake", "bi_tasks.py:too_deep", "-o", "build"),
        ("nested too deeply", "with -v"),
    ),
    Case(
        "export-batch-zero",
        ("export-snakemake", "bi_tasks.py:good", "--batch", "0", "-o", "build"),
        ("'0'", "--batch"),
        code=2,
    ),
    Case(
        "export-batch-text",
        ("export-snakemake", "bi_tasks.py:good", "--batch", "lots", "-o", "build"),
        ("'lots'", "--batch"),
        code=2,
    ),
    Case(
        "export-batch-auto-negative",
        ("export-snakemake", "bi_tasks.py:good", "--batch", "auto=-5", "-o", "build"),
        ("auto=-5", "positive number of minutes"),
        code=2,
    ),
    Case(
        "export-batch-no-name",
        ("export-snakemake", "bi_tasks.py:good", "--batch", "=3", "-o", "build"),
        ("'=3'", "--batch"),
        code=2,
    ),
    Case(
        "export-layout",
        ("export-snakemake", "bi_tasks.py:good", "--layout", "spiral", "-o", "build"),
        ("--layout", "spiral"),
        code=2,
    ),
    Case(
        "export-slurm-status",
        ("export-snakemake", "bi_tasks.py:good", "--slurm-status", "ask", "-o", "build"),
        ("--slurm-status", "ask"),
        code=2,
    ),
    Case(
        "export-output-is-file",
        ("export-snakemake", "bi_tasks.py:good", "-o", "bi_tasks.py"),
        ("bi_tasks.py", "file"),
        code=2,
    ),
]

GRAPH = [
    Case("graph-no-output", ("graph", "bi_tasks.py:good"), ("-o",), code=2),
    Case(
        "graph-picture-type",
        ("graph", "bi_tasks.py:good", "-o", "dag.bmp"),
        ("dag.bmp", "'.bmp'"),
        code=2,
    ),
    Case(
        "graph-bad-target",
        ("graph", "bad_syntax.py:tasks", "-o", "dag.dot"),
        ("bad_syntax", "syntax error"),
    ),
    Case(
        "graph-output-folder",
        ("graph", "bi_tasks.py:good", "-o", "emptydir"),
        ("emptydir", "directory"),
        code=2,
    ),
]

STORE = [
    Case("store-unknown", ("store", "compact"), ("compact",), code=2),
    Case("store-find-missing", ("store", "find-output", "nope.npy"), ("nope.npy",), code=2),
    Case(
        "store-find-folder", ("store", "find-output", "emptydir"), ("emptydir", "directory"), code=2
    ),
    Case(
        "store-find-outside",
        ("store", "find-output", "bi_tasks.py"),
        ("bi_tasks.py",),
    ),
    Case("store-merge-python-file", ("store", "merge", "bi_tasks.py"), ("bi_tasks.py", "SQLite")),
    Case("store-merge-missing", ("store", "merge", "nope.db"), ("nope.db", "no such project")),
    Case("store-merge-device", ("store", "merge", "/dev/null"), ("/dev/null",)),
    Case("store-merge-fifo", ("store", "merge", "special/fifo.json"), ("special/fifo.json",)),
    Case("store-merge-own", ("store", "merge", "."), ("own record store",)),
    Case("store-merge-no-project", ("store", "merge", "emptydir"), ("emptydir", "no Sumatra")),
    Case("store-merge-scheme", ("store", "merge", "ftp://host/records"), ("ftp://host/records",)),
    Case(
        "store-merge-no-driver",
        ("store", "merge", "mysql://user:hunter2@host/db"),
        ("mysqlclient",),
        absent=("hunter2",),
    ),
    Case("store-delete-nothing", ("store", "delete"), ("Select records",), code=2),
    Case("store-delete-unknown", ("store", "delete", "no_such_label", "-y"), ("no_such_label",)),
    Case("store-lineage-unknown", ("store", "lineage", "no_such_label"), ("no_such_label",)),
    Case(
        "store-lineage-both",
        ("store", "lineage", "--json", "--prov", "x"),
        ("--json or --prov",),
        code=2,
    ),
    Case(
        "store-surrogates-missing",
        ("store", "create-surrogates", "nope.json"),
        ("nope.json",),
        code=2,
    ),
    Case(
        "store-surrogates-bad-taskfile",
        ("store", "create-surrogates", taskfile("truncated")),
        (taskfile("truncated"), "looks truncated"),
        once=taskfile("truncated"),
    ),
    Case(
        "store-surrogates-fifo",
        ("store", "create-surrogates", "special/fifo.json"),
        ("special/fifo.json", "FIFO"),
        once="special/fifo.json",
    ),
]

PROJECT = [
    Case("project-init-again", ("project", "init", "--yes"), ("already holds",)),
    Case(
        "project-init-outside-git",
        ("project", "init", "--yes", "/tmp"),
        ("not inside a git repository",),
    ),
    Case(
        "project-init-into-file",
        ("project", "init", "--yes", "bi_tasks.py"),
        ("bi_tasks.py", "file"),
        code=2,
    ),
    Case(
        "project-dirty-outside",
        ("project", "dirty-dirs", "--add", "../elsewhere"),
        ("../elsewhere",),
    ),
    Case(
        "project-dirty-absolute",
        ("project", "dirty-dirs", "--add", "/etc"),
        ("/etc",),
    ),
    Case("project-unknown", ("project", "delete"), ("delete",), code=2),
]

BROKEN_PROJECTS = {
    "not-json": {"project": b"{not json"},
    "empty": {"project": b""},
    "list": {"project": b"[]"},
    "no-name": {"project": b'{"record_store": {}}'},
    "binary": {"project": b"\xff\xfe\x00\x01"},
    "settings-not-json": {
        "project": json.dumps({"name": "p"}).encode(),
        "smttask.json": b"{oops",
    },
    "store-scheme": {
        "project": json.dumps(
            {
                "name": "p",
                "record_store": {
                    "type": "sumatra.recordstore.django_store.DjangoRecordStore",
                    "db_file": "gopher://host/db",
                },
            }
        ).encode(),
    },
}

PROJECT_FILES = [
    Case(
        f"project-file-{name}",
        ("store", "rebuild") if name == "store-scheme" else ("project", "info"),
        ("broken-" + name, ".smt"),
        env={"SMTTASK_PROJECT_ROOT": f"{{root}}/broken-{name}"},
    )
    for name in BROKEN_PROJECTS
] + [
    Case(
        "project-file-fifo",
        ("project", "info"),
        ("broken-fifo", "not a regular file"),
        env={"SMTTASK_PROJECT_ROOT": "{root}/broken-fifo"},
    ),
    Case(
        "store-flush-broken-project",
        ("store", "flush"),
        ("broken-not-json",),
        env={"SMTTASK_PROJECT_ROOT": "{root}/broken-not-json"},
    ),
    Case(
        "smt-list-broken-project",
        ("smt", "list"),
        ("broken-not-json",),
        env={"SMTTASK_PROJECT_ROOT": "{root}/broken-not-json"},
    ),
]

OTHER_COMMANDS = [
    Case("top-unknown-command", ("fly",), ("fly",), code=2),
    Case("top-unknown-option", ("--fly",), ("--fly",), code=2),
    Case("smt-init", ("smt", "init"), ("'init'", "smttask project init"), code=2),
    Case("smt-unknown", ("smt", "frobnicate"), ("'frobnicate'",), code=2),
    Case("smt-delete-data", ("smt", "delete", "--data", "x"), ("--data",)),
    Case("reproduce-no-label", ("reproduce",), ("LABELS",), code=2),
    Case("reproduce-unknown", ("reproduce", "no_such_label"), ("no_such_label",)),
    Case(
        "reproduce-tolerance-text",
        ("reproduce", "--tolerance", "close", "x"),
        ("'close'", "REL"),
    ),
    Case(
        "reproduce-tolerance-negative",
        ("reproduce", "--tolerance", "-1", "x"),
        ("'-1'", "non-negative"),
    ),
    Case(
        "reproduce-tolerance-infinite",
        ("reproduce", "--tolerance", "inf,1", "x"),
        ("'inf,1'",),
    ),
]

ENVIRONMENT = [
    Case(
        f"env-{name}-{value}",
        ("run", "--no-record", "good"),
        (f"{name}={value!r}",),
        env={name: value},
    )
    for name, value in [
        ("SMTTASK_RECORD", "maybe"),
        ("SMTTASK_FSYNC", "2"),
        ("SMTTASK_CAPTURE", "perhaps"),
        ("SMTTASK_FLUSH_RECORDS", "x"),
        ("SMTTASK_FLUSH_EVERY", "0"),
        ("SMTTASK_FLUSH_EVERY", "1e999"),
        ("SMTTASK_FLUSH_EVERY", "lots"),
        ("SMTTASK_FLUSH_INTERVAL", "nan"),
        ("SMTTASK_FLUSH_INTERVAL", "-1"),
        ("SMTTASK_GIT_CHECK_INTERVAL", "inf"),
    ]
] + [
    Case(
        "env-trusted-os",
        ("run", "--no-record", taskfile("module_os")),
        (taskfile("module_os"), "system"),
        once=f"FAILED {taskfile('module_os')}",
        env={"SMTTASK_TRUSTED_PACKAGES": "os"},
    ),
]

CASES = [
    *run_cases(),
    *SPECIAL_FILES,
    *RUN_ARGS,
    *EXPORT,
    *GRAPH,
    *STORE,
    *PROJECT,
    *PROJECT_FILES,
    *OTHER_COMMANDS,
    *ENVIRONMENT,
]


# -- the shared project --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One project for every case: tasks, the bad files, a task whose result exists."""
    from smttask import config
    from smttask.recording.projectinit import InitOptions, init_project

    root = tmp_path_factory.mktemp("corpus") / "project"
    root.mkdir()
    proj = Project(root)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in GIT_ENV.items():
            mp.setenv(key, value)
        mp.setenv("SMTTASK_PROJECT_ROOT", str(root))
        mp.chdir(root)
        mp.syspath_prepend(str(root))
        proj.git("init", "-q")
        proj.write(".gitignore", "data/\n__pycache__/\n")
        proj.write("bi_tasks.py", TASKS)
        for name, text in MODULES.items():
            proj.write(f"{name}.py", text)
        proj.write("bad-name.py", "tasks = []\n")
        proj.commit(".")
        mp.setattr(config, "settings", config.Settings())
        config.forget_project_root()
        init_project(root, InitOptions(name="corpus"))
        import bi_tasks  # type: ignore[import-not-found]

        bi_tasks.square(x=2).save(root / "good")
        subprocess.run([SMTTASK, "run", "good"], cwd=root, check=True, capture_output=True)
        # A reader: once it returns, the run's record is in the store and its journal gone
        # (a detached process may still be moving it), so the cases start from a still project.
        subprocess.run([SMTTASK, "store", "flush"], cwd=root, check=True, capture_output=True)
        for name, data in TASK_FILES.items():
            (root / "bad").mkdir(exist_ok=True)
            (root / taskfile(name)).write_bytes(data)
        special = root / "special"
        (special / "folder.json" / "inner.json").mkdir(parents=True)
        os.mkfifo(special / "fifo.json")
        (special / "dangling.json").symlink_to(root / "gone.json")
        with open(special / "huge.json", "wb") as f:
            f.truncate(100 * 2**20 + 1)  # sparse
        (root / "emptydir").mkdir()
        (root / "foreign").mkdir()
        (root / "foreign" / "notes.txt").write_text("mine\n")
        for name, files in BROKEN_PROJECTS.items():
            smt = root / f"broken-{name}" / ".smt"
            smt.mkdir(parents=True)
            for fname, data in files.items():
                (smt / fname).write_bytes(data)
        fifo_project = root / "broken-fifo" / ".smt"
        fifo_project.mkdir(parents=True)
        os.mkfifo(fifo_project / "project")
        yield root
    sys.modules.pop("bi_tasks", None)
    for name in MODULES:
        sys.modules.pop(name, None)
    config.forget_project_root()


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under `root` (but git's and the record database's) with its size and mtime."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__", ".snakemake")]
        for name in files + [d for d in dirs]:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if rel.startswith(".smt/records"):
                continue
            st = path.lstat()
            found[rel] = (st.st_size, st.st_mtime_ns if not path.is_dir() else 0)
    return found


@dataclass
class Result:
    code: int
    output: str


def invoke(argv: tuple[str, ...], env: dict[str, str], root: Path) -> Result:
    """`smttask ARGV` through the console entry point, in this process."""
    from smttask import config, hooks
    from smttask.cli import main

    env = {k: v.replace("{root}", str(root)) for k, v in env.items()}
    code: Any = 0
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("SMTTASK_PROJECT_ROOT", str(root))
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delattr(config, "settings")  # made again from this environment, on first use
        mp.setattr(hooks, "_default", None)
        config.forget_project_root()
        runner = CliRunner()
        with runner.isolation() as (out, err, _):
            try:
                main(list(argv))
            except SystemExit as exc:
                code = exc.code
        config.forget_project_root()
        output = out.getvalue().decode() + err.getvalue().decode()
    return Result(code if isinstance(code, int) else 1, output)


BARE_EXCEPTION = re.compile(r"^\s*(\w+\.)*\w+(Error|Exception|Interrupt)\b", re.M)


def check(result: Result, case: Case, root: Path) -> None:
    text = result.output
    shown = f"{case.id}: exit {result.code}\n{text}"
    assert result.code == case.code, shown
    assert "Traceback" not in text, shown
    assert BARE_EXCEPTION.search(text) is None, shown
    for name in case.names:
        assert name.replace("{root}", str(root)) in text, f"{name!r} not named\n{shown}"
    if case.once == "Error:":  # one failure line (never a second report of it)
        count = len(re.findall(r"^Error:", text, re.M))
    else:
        count = text.count(case.once)
    assert count == 1, f"{case.once!r} not exactly once\n{shown}"
    for secret in case.absent:
        assert secret not in text, shown


def test_the_corpus_is_large_and_its_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 100 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, corpus: Path) -> None:
    before = snapshot(corpus)
    result = invoke(case.argv, case.env, corpus)
    check(result, case, corpus)
    after = snapshot(corpus)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"{case.id} wrote {changed}\n{result.output}"


def test_verbose_shows_the_traceback(corpus: Path) -> None:
    result = invoke(("-v", "export-snakemake", "bad_syntax.py:tasks"), {}, corpus)
    assert result.code == 1 and "Traceback" in result.output
    assert 'bad_syntax.py", line 1' in result.output  # the cause's traceback, chained
    assert len(re.findall(r"^Error:", result.output, re.M)) == 1
    result = invoke(("-v", "export-snakemake", "bi_tasks.py:broken_mapping"), {}, corpus)
    assert result.code == 1 and "Traceback" in result.output
    assert "Run with -v" not in result.output
    result = invoke(("run", "-v", "--no-record", taskfile("module_raises")), {}, corpus)
    assert result.code == 1 and "Traceback" in result.output
    assert "the module refuses to load" in result.output


# -- disks that are full or read-only (needs root to mount small file systems) -------------------


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[dict[str, Path]]:
    full, readonly = tmp_path / "full", tmp_path / "readonly"
    full.mkdir()
    readonly.mkdir()
    mounted = []
    try:
        for path, options in ((full, "size=64k"), (readonly, "ro")):
            done = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
            )
            if done.returncode != 0:
                pytest.skip(f"cannot mount a small file system here: {done.stderr.decode()}")
            mounted.append(path)
        fd = os.open(full / "filler", os.O_WRONLY | os.O_CREAT)  # leave no room at all
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        yield {"full": full, "readonly": readonly}
    finally:
        for path in mounted:  # lazily if still busy: never leave a mount behind
            if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(path)], check=False)


DISK_CASES = [
    ("disk-full-results", "full", "is full", "SMTTASK_OUTPUT_DIR"),
    ("disk-readonly-results", "readonly", "read-only file system", "SMTTASK_OUTPUT_DIR"),
    ("disk-full-export", "full", "is full", "export"),
    ("disk-readonly-export", "readonly", "read-only file system", "export"),
    ("disk-readonly-graph", "readonly", "read-only file system", "graph"),
]


@pytest.mark.parametrize(
    ("cid", "disk", "words", "how"), DISK_CASES, ids=[c[0] for c in DISK_CASES]
)
def test_a_full_or_read_only_disk_names_the_folder(
    cid: str, disk: str, words: str, how: str, corpus: Path, mounts: dict[str, Path]
) -> None:
    folder = mounts[disk] / "out"
    big = corpus / "big"
    big.mkdir(exist_ok=True)
    import bi_tasks

    path = bi_tasks.text(n=1000).save(big)
    env: dict[str, str] = {}
    if how == "SMTTASK_OUTPUT_DIR":
        argv: tuple[str, ...] = ("run", "--no-record", str(path))
        env = {"SMTTASK_OUTPUT_DIR": str(folder), "SMTTASK_INPUT_DIR": str(folder / "in")}
        once = f"FAILED {path}"
    elif how == "export":
        argv, once = ("export-snakemake", str(path), "-o", str(folder)), "Error:"
    else:
        argv, once = ("graph", str(path), "-o", str(folder / "dag.dot")), "Error:"
    try:
        result = invoke(argv, env, corpus)
        case = Case(cid, argv, (str(folder), words), once=once)
        check(result, case, corpus)
        assert ".tmp-" not in result.output  # never the hidden temporary file
        leftovers = [p for p in mounts[disk].rglob("*") if p.is_file() and p.name != "filler"]
        assert not leftovers, leftovers
    finally:
        shutil.rmtree(big)


# -- real processes: the environment at start-up, a closed pipe, Ctrl-C --------------------------


def smttask(
    corpus: Path, *args: str, env: dict[str, str] | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "SMTTASK_PROJECT_ROOT": str(corpus), **(env or {})}
    return subprocess.run(
        [SMTTASK, *args], cwd=corpus, env=full_env, capture_output=True, text=True, timeout=120,
        **kw,
    )  # fmt: skip


def test_a_bad_environment_variable_at_start_up_is_one_sentence(corpus: Path) -> None:
    done = smttask(corpus, "run", "good", env={"SMTTASK_RECORD": "maybe"})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "Error: Environment variable SMTTASK_RECORD='maybe' is not a yes/no value. Set it to "
        "one of 1/0, true/false, yes/no, on/off."
    ]
    done = smttask(corpus, "--help", env={"SMTTASK_RECORD": "maybe"})  # nothing to check: fine
    assert done.returncode == 0


def test_an_import_failure_in_a_real_process(corpus: Path) -> None:
    done = smttask(corpus, "export-snakemake", "missing_import.py:tasks", "-o", "build")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: Target missing_import.py:tasks") and "no_such_package" in line
    assert not (corpus / "build").exists()


def test_a_closed_pipe_exits_quietly(corpus: Path) -> None:
    proc = subprocess.Popen(
        [SMTTASK, "smt", "list"],
        cwd=corpus,
        env={**os.environ, "SMTTASK_PROJECT_ROOT": str(corpus)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader goes away before anything is written (like `| head`)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) != 0
    assert err == "", err


def test_ctrl_c_is_one_line_and_exit_code_130(corpus: Path) -> None:
    slow = corpus / "slow_tasks.py"
    slow.write_text(
        "import time\nfrom smttask import RecordedTask\n\n@RecordedTask\n"
        "def nap(s: float) -> float:\n    print('napping', flush=True)\n"
        "    time.sleep(s)\n    return s\n"
    )
    path = corpus / "slow" / "nap.json"
    try:
        subprocess.run(
            [sys.executable, "-c", f"import slow_tasks; slow_tasks.nap(s=60.0).save({str(path)!r})"],
            cwd=corpus, check=True, env={**os.environ, "PYTHONPATH": str(corpus)},
        )  # fmt: skip
        proc = subprocess.Popen(
            [SMTTASK, "run", "--no-record", str(path)],
            cwd=corpus,
            env={**os.environ, "SMTTASK_PROJECT_ROOT": str(corpus)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == "napping\n"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and err.strip().splitlines()[-1] == "Interrupted."
        assert [line for line in err.splitlines() if line.strip()] == ["Interrupted."]
    finally:
        slow.unlink()
        shutil.rmtree(corpus / "slow", ignore_errors=True)
        shutil.rmtree(corpus / "data" / "run_dump" / "nap", ignore_errors=True)
