"""Griffe extension (used by mkdocstrings): the interactive examples of a docstring
(``>>> ...`` lines and their output) shown as Python console code blocks, not as Markdown
quotes. ``# doctest:`` directives are left out of what the page shows."""

from __future__ import annotations

import re
from typing import Any

import griffe

_DIRECTIVE = re.compile(r"\s*# doctest:.*$")


def console_blocks(text: str) -> str:
    """`text` with each run of doctest lines (a ``>>>`` line, then ``...`` lines and output
    lines up to a blank line) put in a ```pycon fence."""
    out: list[str] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.lstrip().startswith(">>>") or (block and line.strip()):
            block.append(_DIRECTIVE.sub("", line))
            continue
        if block:
            if out and out[-1].strip():
                out.append("")
            out += ["```pycon", *block, "```"]
            block = []
        out.append(line)
    return "\n".join(out[:-1])


class DoctestBlocks(griffe.Extension):
    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = console_blocks(obj.docstring.value)
