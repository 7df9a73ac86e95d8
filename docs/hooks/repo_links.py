"""MkDocs hook: links from a page to files of the repository outside ``docs/`` (an example
pipeline under ``workflows/``) point at that file in the repository (``repo_url``), so that
the pages keep their relative links, which work where the Markdown is read in the repository.
A link to a file that does not exist is a warning (an error with ``--strict``)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.repo_links")
_LINK = re.compile(r"\]\((?!\w+:|#|/)([^)\s#]+)(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.abs_src_path is None:
        return markdown
    docs = Path(config["docs_dir"]).resolve()
    repo = docs.parent
    here = Path(page.file.abs_src_path).resolve().parent

    def link(match: re.Match[str]) -> str:
        target = (here / match[1]).resolve()
        if target.is_relative_to(docs) or not target.is_relative_to(repo):
            return match[0]
        path = target.relative_to(repo).as_posix()
        if not target.exists():
            log.warning("%s links to %s, which is not in the repository", page.file.src_uri, path)
            return match[0]
        return f"]({config['repo_url'].rstrip('/')}/blob/main/{path}{match[2] or ''})"

    return _LINK.sub(link, markdown)
