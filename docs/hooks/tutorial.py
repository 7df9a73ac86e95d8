"""MkDocs hook: the tutorial page shows a real run of ``tutorial.ipynb``.

At each build the notebook runs from its first cell to its last, in a fresh project folder
set up as its first section says (``relax.py`` committed in a new git repository,
``smttask project init --yes``, the ``.gitignore`` it writes committed), in a kernel of the
Python that builds the site; the page is made from that executed copy (the notebook in
``docs/`` keeps no outputs). A cell that fails fails the build. Links to the site's Markdown
pages (``guide.md``) are pointed at their HTML pages.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

NOTEBOOK = "tutorial.ipynb"
MODULE = "relax.py"
KERNEL = "smttask-docs"
log = logging.getLogger("mkdocs.hooks.tutorial")
_workdir: dict[str, Path] = {}


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise PluginError(f"{' '.join(args)} failed in {cwd}:\n{done.stdout}{done.stderr}")


def execute_tutorial(docs: Path, workdir: Path) -> Path:
    """Run docs/tutorial.ipynb in a new project under `workdir`; return the executed copy."""
    import nbclient
    import nbformat
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    project = workdir / "relax-tutorial"
    project.mkdir()
    shutil.copy(docs / MODULE, project / MODULE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTTASK_", "GIT_"))}
    env.update(GIT_AUTHOR_NAME="smttask docs", GIT_AUTHOR_EMAIL="docs@localhost")
    env.update(GIT_COMMITTER_NAME="smttask docs", GIT_COMMITTER_EMAIL="docs@localhost")
    _run(["git", "init", "-q"], project, env)
    _run(["git", "add", MODULE], project, env)
    _run(["git", "commit", "-q", "-m", "Relaxation tasks"], project, env)
    smttask = [sys.executable, "-c", "from smttask.cli import main; main()"]
    _run([*smttask, "project", "init", "--yes"], project, env)
    _run(["git", "add", ".gitignore"], project, env)
    _run(["git", "commit", "-q", "-m", "Ignore smttask's folders"], project, env)

    write_kernel_spec(workdir / "kernels" / KERNEL)
    specs = KernelSpecManager(kernel_dirs=[str(workdir / "kernels")], ensure_native_kernel=False)
    manager = KernelManager(
        kernel_name=KERNEL,
        kernel_spec_manager=specs,
        transport="ipc",  # local sockets under workdir, no TCP port
        ip=str(workdir / "kernel"),
    )
    nb = nbformat.read(docs / NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, km=manager, timeout=300, resources={"metadata": {"path": str(project)}}
    )
    try:
        client.execute(env=env)
    except nbclient.exceptions.CellExecutionError as exc:
        raise PluginError(f"{NOTEBOOK} failed while building the site:\n{exc}") from None
    finally:
        if manager.has_kernel:
            manager.shutdown_kernel()
    executed = project / NOTEBOOK
    nbformat.write(nb, executed)
    return executed


@event_priority(-100)  # after mkdocs-jupyter made the notebook a page, before it reads it
def on_files(files: Any, config: Any) -> Any:
    page = files.get_file_from_path(NOTEBOOK)
    if page is None:
        return files
    workdir = Path(tempfile.mkdtemp(prefix="smttask-docs-"))
    _workdir["path"] = workdir
    log.info("Running %s in a fresh project under %s", NOTEBOOK, workdir)
    page.abs_src_path = str(execute_tutorial(Path(config["docs_dir"]), workdir))
    return files


_LINK = re.compile(r'href="([\w./-]+)\.md(#[^"]*)?"')


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != NOTEBOOK:
        return html

    def html_link(match: re.Match[str]) -> str:
        target = files.get_file_from_path(f"{match[1]}.md")
        if target is None:
            log.warning("%s links to %s.md, which is not a page of the site", NOTEBOOK, match[1])
            return match[0]
        return f'href="{target.url_relative_to(page.file)}{match[2] or ""}"'

    return _LINK.sub(html_link, html)


def on_post_build(config: Any) -> None:
    workdir = _workdir.pop("path", None)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)
