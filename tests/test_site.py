"""The documentation site's generated pages (docs/hooks/): the command-line reference covers
every command and option, the changelog's links reach the site's pages, docstring examples
become code blocks. (`mkdocs build --strict` itself runs in scripts/test.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest

REPO = Path(__file__).resolve().parent.parent
HOOKS = REPO / "docs" / "hooks"


def hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", HOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def walk(cmd: click.Command, ctx: click.Context) -> list[tuple[str, click.Command]]:
    found = [(ctx.command_path, cmd)]
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            assert sub is not None
            found += walk(sub, click.Context(sub, info_name=name, parent=ctx))
    return found


def test_the_cli_reference_has_every_command_and_option() -> None:
    from smttask.cli import COMMANDS, cli

    page = hook("cli_reference").cli_markdown()
    commands = walk(cli, click.Context(cli, info_name="smttask"))
    assert {path.split()[1] for path, _ in commands[1:]} == set(COMMANDS)  # lazy ones too
    assert len(commands) > len(COMMANDS) + 5  # sub-commands of project and store
    for path, cmd in commands:
        section = page.split(f"`{path}`\n", 1)[1].split("\n#", 1)[0]
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.opts[-1] in section, f"{path}: {param.opts[-1]} is missing"
    assert "| `-n, --cores INTEGER RANGE` |" in page
    assert "```text\nExamples:\n  smttask run taskdir/" in page  # click's \b blocks


def test_the_changelog_links_point_at_site_pages() -> None:
    changelog = hook("changelog")
    text = changelog.changelog_markdown(changelog.SOURCE.read_text())
    assert "](docs/" not in text
    for target in {
        line.split("](", 1)[1].split(")", 1)[0] for line in text.splitlines() if "](" in line
    }:
        if "://" not in target:
            assert (REPO / "docs" / target.split("#")[0]).is_file(), target


@pytest.mark.parametrize(
    ("docstring", "expected"),
    [
        (
            "Intro.\n\n>>> f(1)   # doctest: +SKIP\n2\n\nAfter.",
            "Intro.\n\n```pycon\n>>> f(1)\n2\n```\n\nAfter.",
        ),
        ("Text\n>>> x = 1", "Text\n\n```pycon\n>>> x = 1\n```"),
        ("No example.", "No example."),
    ],
)
def test_docstring_examples_become_console_blocks(docstring: str, expected: str) -> None:
    pytest.importorskip("griffe")
    assert hook("doctest_blocks").console_blocks(docstring) == expected


class _Page:
    class file:  # the shape of mkdocs' Page.file
        src_uri = "howto/example.md"


def test_module_blocks_are_titled_by_their_file_name() -> None:
    code_titles = hook("code_titles")
    text = (
        "Intro.\n\n```python file=model.py\nx = 1\n```\n\n    ```python file=a.py\n    y\n    ```\n"
    )
    shown = code_titles.on_page_markdown(text, _Page, None, None)
    assert '```python title="model.py"\nx = 1' in shown
    assert '    ```python title="a.py"\n    y' in shown
    assert "file=" not in shown


@pytest.mark.parametrize(
    ("html", "lost"),
    [
        ("<p>```python\nx = 1\n```</p>", True),  # a fence Markdown did not see
        ("<p><code>python\nx = 1\n</code></p>", True),  # an unclosed fence, read as inline code
        ('<div class="highlight"><pre><code>x = 1</code></pre></div>', False),
        ("<p>Use <code>run()</code> here.</p>", False),
    ],
)
def test_a_fence_shown_as_text_is_a_warning(
    html: str, lost: bool, caplog: pytest.LogCaptureFixture
) -> None:
    code_titles = hook("code_titles")
    with caplog.at_level("WARNING", logger="mkdocs.hooks.code_titles"):
        assert code_titles.on_page_content(html, _Page, None, None) == html
    assert bool(caplog.records) is lost
    if lost:
        assert "howto/example.md" in caplog.text and "python" in caplog.text


MKDOCS = REPO / "mkdocs.yml"


def nav_pages(entries: object) -> list[str]:
    """The pages a nav (a list of `{title: page or section}` and bare pages) names."""
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, list):
        return [page for entry in entries for page in nav_pages(entry)]
    assert isinstance(entries, dict), entries
    return [page for value in entries.values() for page in nav_pages(value)]


def site_config() -> dict[str, object]:
    yaml = pytest.importorskip("yaml")
    config: dict[str, object] = yaml.safe_load(MKDOCS.read_text())
    return config


def test_every_page_of_docs_is_in_the_nav_once() -> None:
    config = site_config()
    excluded = [line.strip() for line in str(config["exclude_docs"]).splitlines() if line.strip()]
    docs = REPO / "docs"
    pages = {
        path.relative_to(docs).as_posix()
        for path in docs.rglob("*")
        if path.suffix in {".md", ".ipynb"}
        and not any(path.relative_to(docs).as_posix().startswith(e) for e in excluded)
    }
    generated = {hook("cli_reference").PAGE, hook("changelog").PAGE}
    listed = nav_pages(config["nav"])
    missing = sorted(pages - set(listed))
    assert not missing, (
        f"{', '.join(f'docs/{p}' for p in missing)}: not in the site's nav. Add each as one "
        f"line `- Title: {missing[0]}` under its section of `nav:` in {MKDOCS} (what goes in "
        f"which section: the comment above `nav:`, and docs/architecture.md, 'Documentation "
        f"pages'); `mkdocs build --strict` fails on a page left out."
    )
    unknown = sorted(set(listed) - pages - generated)
    assert not unknown, (
        f"the nav of {MKDOCS} names {unknown}, which are not in docs/ (nor made by a hook): "
        f"write the page, or drop its line until it exists"
    )
    twice = sorted({p for p in listed if listed.count(p) > 1})
    assert not twice, f"the nav of {MKDOCS} names {twice} more than once; keep one entry each"


def test_the_build_fetches_nothing() -> None:
    """CI reaches no network but package registries: no theme font from a CDN, no
    mkdocstrings inventories, no plugin that downloads at build time."""
    config = site_config()
    theme = config["theme"]
    assert isinstance(theme, dict) and theme.get("font") is False, "set theme.font: false"
    plugins: dict[str, object] = {}
    for plugin in config["plugins"]:  # type: ignore[attr-defined]
        plugins.update(plugin if isinstance(plugin, dict) else {plugin: {}})
    assert not {"privacy", "social", "optimize"} & set(plugins), "these plugins download"
    handlers = plugins["mkdocstrings"]["handlers"]  # type: ignore[index]
    for name, handler in handlers.items():
        assert not {"import", "inventories"} & set(handler), f"{name}: inventories download"


@pytest.mark.parametrize(
    ("html", "remote"),
    [
        ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?f=R">', True),
        ('<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>', True),
        ('<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script>', True),
        ('<img alt="x" src="//cdn.example.org/x.png">', True),
        ('<link rel="stylesheet" href="assets/stylesheets/main.css">', False),
        ('<script src="assets/javascripts/bundle.js"></script>', False),
        ('<a href="https://github.com/smttask/smttask">repo</a>', False),  # a link, no load
        ('<link rel="canonical" href="https://example.org/">', False),
    ],
)
def test_a_page_loading_from_outside_is_a_warning(html: str, remote: bool) -> None:
    assert bool(hook("offline").remote_loads(html)) is remote


def test_the_documentation_url_is_the_sites_entry_page() -> None:
    """The package's Documentation URL and the README's link open the site's first page (in
    the repository, where its relative links work, until the built site is published)."""
    import tomllib

    config = site_config()
    [home] = nav_pages(config["nav"])[:1]
    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Documentation"] == f"{str(config['repo_url']).rstrip('/')}/blob/main/docs/{home}"
    assert (REPO / "docs" / home).is_file()
    readme = (REPO / "README.md").read_text().split("## Documentation", 1)[1]
    assert f"](docs/{home})" in readme and "mkdocs build" in readme
