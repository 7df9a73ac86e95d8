"""Output formats: the registry's precedence, and a new format added by one module."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from scityping.numpy import Array

from smttask import OutputError, hooks
from smttask.storage import (
    JsonFormat,
    OutputFormat,
    decode_output,
    format_for,
    format_with_extension,
    formats,
    register_format,
    unregister_format,
)

TEXT_FORMAT = '''
from smttask.storage import OutputFormat, register_format


class TextFormat(OutputFormat):
    """`str` outputs as plain UTF-8 text."""

    name, extension = "text", "txt"

    def stores(self, annotation):
        return annotation is str

    def encode(self, value, annotation):
        return value.encode()

    def decode(self, data, annotation):
        return data.decode()


register_format(TextFormat())
'''

TASKS = """
from smttask import RecordedTask, TaskOutput

@RecordedTask
def greet(name: str) -> str:
    return "Hello " + name

@RecordedTask
def echo(text: str) -> str:
    return text

class Report(TaskOutput):
    title: str
    score: float

@RecordedTask
def report(n: int) -> Report:
    return Report(title=f"run {n}", score=n / 2)
"""


@pytest.fixture(autouse=True)
def registry() -> Iterator[None]:
    """Each test leaves the format registry as it found it."""
    saved = list(formats._formats)
    yield
    formats._formats[:] = saved
    formats._generation += 1


class OtherArrays(OutputFormat):
    name, extension = "other-arrays", "arr"

    def stores(self, annotation: Any) -> bool:
        return formats.is_array_type(annotation)

    def encode(self, value: Any, annotation: Any) -> bytes:
        return b"arrays"

    def decode(self, data: bytes, annotation: Any) -> Any:
        return np.zeros(1)


def test_newest_registration_first_json_last() -> None:
    assert format_for(float).name == format_for(dict[str, Any]).name == "json"
    assert format_for(Array[float, 1]).name == format_for(np.ndarray).name == "npy"
    register_format(OtherArrays())
    assert format_for(Array[float, 1]).name == "other-arrays" and format_for(float).name == "json"
    assert format_with_extension("arr") is format_for(np.ndarray)
    unregister_format("other-arrays")
    assert format_for(Array[float, 1]).name == "npy" and format_with_extension("arr") is None
    register_format(JsonFormat())  # replacing a format keeps its place
    assert format_for(Array[float, 1]).name == "npy"
    unregister_format("json")
    with pytest.raises(OutputError, match=r"No registered output format stores float.*npy"):
        format_for(float)


def test_names_and_extensions_are_unique_and_well_formed() -> None:
    class Clash(OtherArrays):
        name, extension = "json2", "json"

    with pytest.raises(OutputError, match=r"'json2' \(.json\) clashes with .*'json' \(.json\)"):
        register_format(Clash())
    Clash.name, Clash.extension = "json", "jsn"
    with pytest.raises(OutputError, match="clashes"):
        register_format(Clash())
    for bad in ("", ".txt", "1x", "t.xt", "invalid"):
        Clash.name, Clash.extension = "bad", bad
        with pytest.raises(OutputError, match=f"extension {bad!r}"):
            register_format(Clash())
    with pytest.raises(TypeError, match="OutputFormat instance"):
        register_format(OtherArrays)  # type: ignore[arg-type]


def test_a_new_format_is_one_module_and_one_registration(smt_project) -> None:  # type: ignore[no-untyped-def]
    smt_project.write_module("textformat", TEXT_FORMAT)
    tasks = smt_project.write_module("tasks", "import textformat\n" + TASKS)
    task = tasks.greet(name="Ada")
    assert task.run() == "Hello Ada" and task.computed
    archive = smt_project.root / "data/run_dump/greet" / f"{task.key}.txt"
    assert archive.read_bytes() == b"Hello Ada"
    assert task.output_paths == {"": smt_project.root / "data/greet" / f"{task.key}.txt"}
    both = tasks.report(n=3)
    both.run()
    folder = smt_project.root / "data/run_dump/report"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{both.key}_score.json",
        f"{both.key}_title.txt",
    ]
    from smttask import RSView

    assert RSView().filter.task("greet").latest.get_output() == "Hello Ada"  # moves the record
    code = (
        "import tasks\n"
        "t, r = tasks.greet(name='Ada'), tasks.report(n=3)\n"
        "print(t.run(), '|', r.run().title, '|', r.run().score)\n"
        "assert not t.computed and not r.computed\n"
        "from smttask import RSView\n"
        "print(RSView().filter.task('greet').latest.get_output())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=smt_project.root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["Hello Ada | run 3 | 1.5", "Hello Ada"]


def test_results_stored_before_a_format_was_registered_stay_readable(smt_project) -> None:  # type: ignore[no-untyped-def]
    from smttask import RSView

    tasks = smt_project.write_module("tasks", TASKS)
    before = tasks.greet(name="Bo")
    before.run()
    assert before.output_paths[""].suffix == ".json"
    smt_project.write_module("textformat", TEXT_FORMAT)  # registers .txt for str outputs
    after = tasks.greet(name="Bo")
    assert after.output_paths[""].suffix == ".txt"
    assert after.run() == "Hello Bo" and after.computed  # looked for under its new name
    old, new = sorted(RSView().filter.task("greet"), key=lambda r: r.timestamp)
    assert old.outputs[""].suffix == ".json" and new.outputs[""].suffix == ".txt"
    # Each file is read by the format that wrote it: the JSON text is not taken for raw text.
    assert old.get_output() == new.get_output() == "Hello Bo"
    with pytest.raises(OutputError, match=r"\.dat; registered: .*Import the module"):
        decode_output(after, "", b"Hello", "somewhere/result.dat")


def test_a_stored_result_is_never_empty(project) -> None:  # type: ignore[no-untyped-def]
    project.write_module("textformat", TEXT_FORMAT)
    tasks = project.write_module("tasks", "import textformat\n" + TASKS)
    with pytest.raises(OutputError, match=r"'text' encoded output 'result' .* as 0 bytes"):
        tasks.echo(text="").run()
    assert not (project.root / "data/run_dump/echo").exists()
    task = tasks.report(n=1)
    score = hooks.current().outputs.archive_paths(task)["score"]
    title = hooks.current().outputs.archive_paths(task)["title"]
    score.parent.mkdir(parents=True)
    title.write_text("run 1")
    score.touch()  # what a writer killed inside a placeholder publication leaves
    with pytest.raises(OutputError, match=rf"{score} .* is empty: .*Delete it"):
        task.run()
