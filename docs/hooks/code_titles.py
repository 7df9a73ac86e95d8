"""MkDocs hook: a code block opened with ```python file=NAME (a module the page's examples
import; see tests/test_docs.py) is shown with NAME as its title. A code fence that Markdown
left as text — a paragraph starting with ```, or with inline code spanning lines after a
language name (how an unclosed fence reads) — is a warning (an error with ``--strict``)."""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("mkdocs.hooks.code_titles")
_FILE_FENCE = re.compile(r"^( *)```python file=(\S+)[ \t]*$", re.M)
_LOST_FENCE = re.compile(r"<p>\s*(?:```(\S*)|<code>(\w+)[^<\n]*\n[^<]*</code>)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return _FILE_FENCE.sub(r'\1```python title="\2"', markdown)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    for match in _LOST_FENCE.finditer(html):
        log.warning(
            "%s: a ```%s code block is shown as text; check its fence and its indent",
            page.file.src_uri,
            match[1] or match[2],
        )
    return html
