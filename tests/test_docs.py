"""The documentation's examples run: every ```python block of docs/guide.md, in order.

A block opened with ```python file=NAME is written to NAME in the project (and committed)
instead of being executed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python(?: file=(\S+))?\n(.*?)^```", re.S | re.M)


def blocks(name: str) -> list[tuple[str | None, str]]:
    return BLOCK.findall((DOCS / name).read_text())


@pytest.mark.parametrize("doc", ["guide.md"])
def test_doc_examples_run(project, doc: str) -> None:  # type: ignore[no-untyped-def]
    found = blocks(doc)
    assert len(found) >= 5, f"{doc}: expected runnable examples"
    namespace: dict[str, object] = {}
    for filename, code in found:
        if filename:
            project.write_module(filename.removesuffix(".py"), code)
        else:
            exec(compile(code, f"{doc} example", "exec"), namespace)
