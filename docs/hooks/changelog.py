"""MkDocs hook: the changelog page (``changelog.md``), made at build time from the
repository's ``CHANGELOG.md``, its links to ``docs/...`` pages made relative to the site."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PAGE = "changelog.md"
SOURCE = Path(__file__).resolve().parents[2] / "CHANGELOG.md"


def changelog_markdown(text: str) -> str:
    """`CHANGELOG.md`'s text, its links into ``docs/`` pointing at the site's pages."""
    return re.sub(r"\]\(docs/", "](", text)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    content = changelog_markdown(SOURCE.read_text(encoding="utf-8"))
    files.append(File.generated(config, PAGE, content=content))
    return files


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    server.watch(str(SOURCE))
    return server
