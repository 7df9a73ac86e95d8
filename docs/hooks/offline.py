"""MkDocs hook: the site loads nothing from outside. A page whose HTML loads a script, a
style sheet, a font or an image from another host (``src="https://..."``, ``<link
rel="stylesheet" href="https://...">``, a ``preconnect``) is a warning (an error with
``--strict``): the site is read from ``site/`` without a network, and the build itself
fetches nothing (``theme.font: false``, no mkdocstrings inventories)."""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger("mkdocs.hooks.offline")
_REMOTE = re.compile(
    r"""<(?:script|img|iframe|source)\b[^>]*\bsrc=["']((?:https?:)?//[^"']+)"""
    r"""|<link\b(?=[^>]*\brel=["']?(?:stylesheet|preconnect|preload|icon|modulepreload))"""
    r"""[^>]*\bhref=["']((?:https?:)?//[^"']+)""",
    re.I,
)


def remote_loads(html: str) -> list[str]:
    """The addresses on other hosts that `html` loads (links to follow are not loads)."""
    return [m[1] or m[2] for m in _REMOTE.finditer(html)]


def on_post_page(output: str, page: Any, config: Any) -> str:
    for url in remote_loads(output):
        log.warning(
            "%s loads %s from outside the site; ship it, or drop it", page.file.src_uri, url
        )
    return output
