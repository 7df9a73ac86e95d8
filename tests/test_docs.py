"""The documentation's examples run: every ```python block of docs/guide.md (and of the other
pages tested here), in order.

A block opened with ```python file=NAME is written to NAME in the project (and committed)
instead of being executed.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python(?: file=(\S+))?\n(.*?)^```", re.S | re.M)


def blocks(name: str) -> list[tuple[str | None, str]]:
    return BLOCK.findall((DOCS / name).read_text())


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


def test_identity_examples_run(project) -> None:  # type: ignore[no-untyped-def]
    run_doc("identity.md", project)
