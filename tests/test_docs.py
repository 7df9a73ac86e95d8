"""The documentation's examples run: every ```python block of docs/guide.md (and of the other
pages tested here), in order.

A block opened with ```python file=NAME is written to NAME in the project (and committed)
instead of being executed. A block may be indented (inside a list item): its fence's indent
is removed from each of its lines.

Every page of the site (docs/**/*.md) holding a ```python block is run by a test: `TESTED`
names the test of each (the last test here checks that none is missing).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
TESTS = Path(__file__).resolve().parent
SHELL = re.compile(r"^ *```bash\n *(.*?)\n *```", re.S | re.M)
BLOCK = re.compile(r"^( *)```python(?: file=(\S+))?\n(.*?)^\1```", re.S | re.M)

#: Page (relative to docs/) → the test file that runs its examples.
TESTED = {
    "guide.md": "test_docs.py",
    "inputs.md": "test_docs.py",
    "howto-sweeps.md": "test_docs.py",
    "index.md": "test_docs.py",
    "concepts.md": "test_docs.py",
    "howto/sweeps.md": "test_docs.py",
    "howto/slurm.md": "test_docs.py",
    "howto/browse.md": "test_docs.py",
    "howto/jupyter.md": "test_docs.py",
    "howto/reproduce.md": "test_docs.py",
    "types.md": "test_docs.py",
    "migrating.md": "test_docs.py",
    "howto-files.md": "test_docs.py",
    "identity.md": "test_docs.py",
    "snakemake.md": "test_export_docs.py",
    "recording.md": "test_recording.py",
    "view.md": "test_view.py",
}
#: Pages whose Python blocks are not run as they stand, and why.
NOT_RUN = {
    "architecture.md": "its output-format module is registered and run end to end by "
    "tests/test_storage_formats.py (registering it here would change every later test)",
}


def blocks(name: str) -> list[tuple[str | None, str]]:
    text = (DOCS / name).read_text()
    return [
        (filename or None, textwrap.dedent(code) if indent else code)
        for indent, filename, code in BLOCK.findall(text)
    ]


def run_doc(name: str, project) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Run the examples of docs/`name` in `project`; return the names they defined."""
    found = blocks(name)
    assert len(found) >= 2, f"{name}: expected runnable examples"
    namespace: dict[str, object] = {}
    for filename, code in found:
        if filename:
            project.write_module(filename.removesuffix(".py"), code)
        else:
            exec(compile(code, f"docs/{name} example", "exec", dont_inherit=True), namespace)
    return namespace


def test_guide_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    assert len(blocks("guide.md")) >= 5
    run_doc("guide.md", project)


def test_inputs_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    run_doc("inputs.md", project)


def test_sweeps_howto_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("howto-sweeps.md", project)
    assert len(namespace["points"]) == 6  # type: ignore[arg-type]


def test_types_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    run_doc("types.md", project)


def test_migrating_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("migrating.md", project)
    assert namespace["done"].task.digest != "5c0d1e2f3a"  # type: ignore[attr-defined]


def test_files_howto_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("howto-files.md", project)
    assert namespace["folder"].name.endswith(".files")  # type: ignore[attr-defined]


def test_home_page_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("index.md", project)
    assert namespace["task"].run() == 14 / 3  # type: ignore[attr-defined]


def test_concepts_examples_run(smt_project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("concepts.md", smt_project)
    assert namespace["result"].jobs == 4  # type: ignore[attr-defined]


def test_howto_sweeps_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    assert len(blocks("howto/sweeps.md")) == 5  # the indented ones too
    namespace = run_doc("howto/sweeps.md", project)
    assert len(list((project.root / "taskdir").glob("*.json"))) == 6
    assert len(namespace["results"]) == 6  # type: ignore[arg-type]


def test_howto_slurm_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    run_doc("howto/slurm.md", project)
    assert (project.root / "build" / "Snakefile").is_file()


def test_howto_browse_examples_run(smt_project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("howto/browse.md", smt_project)
    assert len(namespace["rs"]) == 4  # type: ignore[arg-type]


def test_howto_jupyter_examples_run(smt_project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("howto/jupyter.md", smt_project)
    assert namespace["count"] == 1


def test_howto_reproduce_examples_run(smt_project) -> None:  # type: ignore[no-untyped-def]
    namespace = run_doc("howto/reproduce.md", smt_project)
    # The page's shell line, as a reader would type it, with a real label.
    [line] = SHELL.findall((DOCS / "howto/reproduce.md").read_text())
    args = shlex.split(line, comments=True)
    assert args[:2] == ["smttask", "reproduce"] and len(args) == 3
    smttask = str(Path(sys.executable).with_name("smttask"))
    label = namespace["record"].label  # type: ignore[attr-defined]
    done = subprocess.run([smttask, "reproduce", label], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{label}  growth.growth" in done.stdout and "identical" in done.stdout


def test_indented_blocks_are_dedented() -> None:
    text = "1. step\n\n    ```python\n    x = 1\n    if x:\n        y = 2\n    ```\n"
    [(indent, name, code)] = BLOCK.findall(text)
    assert (indent, name, textwrap.dedent(code)) == ("    ", "", "x = 1\nif x:\n    y = 2\n")


def test_every_page_with_python_examples_is_run() -> None:
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    with_examples = {page for page in pages if blocks(page)}
    missing = with_examples - set(TESTED) - set(NOT_RUN)
    assert not missing, (
        f"{sorted(missing)} hold ```python blocks that no test runs: run them with "
        f"run_doc(page, project) in a test and add the page to TESTED in {__file__}"
    )
    for page, test_file in TESTED.items():
        assert page in with_examples, f"{page} (in TESTED) has no ```python block"
        assert f'"{page}"' in (TESTS / test_file).read_text(), f"{test_file} never runs {page}"


def test_identity_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    run_doc("identity.md", project)
