"""Jinja2 templates shipped in the package ``smttask.templates`` (the top-level ``templates/``).

Each backend keeps its templates in a folder of its own name (``snakemake/Snakefile.j2``).
Found through ``importlib.resources``, so an editable install and a wheel behave the same.
jinja2 is imported on the first render, not on import: the command line reads a backend's
options without paying for it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ..errors import CompileError

if TYPE_CHECKING:
    import jinja2

PACKAGE = "smttask.templates"


def _load(name: str) -> str:
    resource = files(PACKAGE)
    for part in name.split("/"):
        resource = resource.joinpath(part)
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompileError(
            f"Template {name} is missing from the installed package {PACKAGE} "
            f"({files(PACKAGE)}). Reinstall smttask (pip install --force-reinstall smttask)."
        ) from None


@cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["q"] = json.dumps  # a quoted string literal, valid in Python and YAML
    return env


def render(name: str, context: dict[str, Any]) -> str:
    """Template `name` (e.g. ``"snakemake/Snakefile.j2"``) filled with `context`."""
    return environment().get_template(name).render(context)
