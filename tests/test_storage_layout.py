"""Result file names and paths: names ⇄ parts, links, invalidated names, iterations."""

from __future__ import annotations

import errno
import itertools
import os
from pathlib import Path

import pytest

from smttask import fileio as atomic
from smttask.storage import layout
from smttask.storage.layout import DataRoots, ResultName, parse

DIGEST = "0123456789abcdef0123"
KEYS = [DIGEST, f"{DIGEST}__n3", f"{DIGEST}__n_steps10", f"{DIGEST}__n2x40", f"{DIGEST}__τ7"]


def test_names_round_trip() -> None:
    outputs, numbers, exts, invalid = (
        ["", "mean", "mean_value", "x1", "Values", "σ"],
        [0, 1, 12],
        ["json", "npy"],
        [0, 1, 2, 11],
    )
    for key, output, number, ext, invalidated in itertools.product(
        KEYS, outputs, numbers, exts, invalid
    ):
        parts = ResultName(key=key, output=output, number=number, ext=ext, invalidated=invalidated)
        name = str(parts)
        assert parse(name) == parts, name
        if not invalidated:
            assert name == layout.file_name(key, output, ext, number)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        (f"{DIGEST}.json", ResultName(key=DIGEST, ext="json")),
        (f"{DIGEST}_values.npy", ResultName(key=DIGEST, output="values", ext="npy")),
        (f"{DIGEST}.2.json", ResultName(key=DIGEST, number=2, ext="json")),
        (f"{DIGEST}__n3_x.1.npy", ResultName(key=f"{DIGEST}__n3", output="x", number=1, ext="npy")),
        # values of a task's only variable output: named by position, or by names like "1x"
        (f"{DIGEST}_0.npy", ResultName(key=DIGEST, output="0", ext="npy")),
        (f"{DIGEST}_1x.2.json", ResultName(key=DIGEST, output="1x", number=2, ext="json")),
        (f"{DIGEST}__n3_4.json", ResultName(key=f"{DIGEST}__n3", output="4", ext="json")),
        (f"{DIGEST}.invalid.json", ResultName(key=DIGEST, ext="json", invalidated=1)),
        (
            f"{DIGEST}_mean.3.invalid2.json",
            ResultName(key=DIGEST, output="mean", number=3, ext="json", invalidated=2),
        ),
    ],
)
def test_parse_gives_the_parts(name: str, parts: ResultName) -> None:
    assert parse(name) == parts and str(parts) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "README.md",
        "abc.json",  # key too short
        f"{DIGEST.upper()}.json",
        f"{DIGEST}",
        f"{DIGEST}.",
        f"{DIGEST}.3",  # no extension, or a numeric one
        f"{DIGEST}.0.json",  # numbers start at 1
        f"{DIGEST}.01.json",
        f"{DIGEST}.invalid1.json",  # the first invalidated name has no number
        f"{DIGEST}_.json",
        f"{DIGEST}__.json",
        f"{DIGEST}__n.json",  # an iteration needs its count
        f"{DIGEST}_٣.json",  # neither an identifier nor starting with an ASCII digit
        f"{DIGEST}__1x.json",
        f"{DIGEST}.٣.json",  # numbers are ASCII digits
        f"{DIGEST}.jsön",
        f".{DIGEST}.json.tmp-123-abcd",  # a temporary file
        f"{DIGEST}.json.tmp",
        f"sub/{DIGEST}.json",
        f"{DIGEST}.json\n",
    ],
)
def test_other_names_are_not_results(name: str) -> None:
    assert parse(name) is None


def test_link_of_an_archive() -> None:
    assert layout.link_name(f"{DIGEST}.2.json") == f"{DIGEST}.json"
    assert layout.link_name(f"{DIGEST}_values.13.npy") == f"{DIGEST}_values.npy"
    assert layout.link_name(f"{DIGEST}__n3.json") == f"{DIGEST}__n3.json"
    assert layout.link_name(f"{DIGEST}.2.invalid.json") is None  # nothing links to it
    assert layout.link_name("someone-else.dat") == "someone-else.dat"

    roots = DataRoots("/p/data", "/p/data/run_dump")
    assert layout.link_at(roots, f"fit/{DIGEST}.2.json") == Path(f"/p/data/fit/{DIGEST}.json")
    assert layout.archive_at(roots, f"fit/{DIGEST}.2.json") == Path(
        f"/p/data/run_dump/fit/{DIGEST}.2.json"
    )
    assert layout.link_at(roots, f"/elsewhere/{DIGEST}.json") is None
    assert layout.link_at(roots, f"fit/{DIGEST}.invalid.json") is None
    assert layout.link_at(DataRoots("/p/data", "/p/data"), f"fit/{DIGEST}.json") is None


def test_paths_under_the_roots() -> None:
    roots = DataRoots("/p/data", "/p/data/run_dump")
    name = layout.file_name(DIGEST, "mean", "json")
    assert layout.archive_dir(roots, "fit") / name == Path(
        f"/p/data/run_dump/fit/{DIGEST}_mean.json"
    )
    assert layout.link_dir(roots, "fit") / name == Path(f"/p/data/fit/{DIGEST}_mean.json")
    assert layout.read_order(roots, "fit", name) == (
        f"/p/data/fit/{DIGEST}_mean.json",
        f"/p/data/run_dump/fit/{DIGEST}_mean.json",
    )


@pytest.mark.parametrize("tier", ["link", "renameat2", "placeholder"])
def test_move_aside_takes_the_first_free_name_and_never_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tier: str
) -> None:
    if tier != "link":

        def no_hard_links(src: object, dst: object, **kwargs: object) -> None:
            raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))

        monkeypatch.setattr(os, "link", no_hard_links)
    if tier == "placeholder":
        monkeypatch.setattr(atomic, "_RENAMEAT2", None)
    elif tier == "renameat2" and atomic._RENAMEAT2 is None:
        pytest.skip("this C library has no renameat2")
    archive = tmp_path / f"{DIGEST}.2.json"
    archive.write_text("first")
    first = layout.move_aside(archive)
    assert first.name == f"{DIGEST}.2.invalid.json" and first.read_text() == "first"
    archive.write_text("second")
    second = layout.move_aside(archive)
    assert second.name == f"{DIGEST}.2.invalid2.json" and second.read_text() == "second"
    assert first.read_text() == "first" and not archive.exists()
    assert layout.is_invalidated(first.name) and layout.is_invalidated(f"fit/{second.name}")
    assert not layout.is_invalidated(archive.name)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, second.name])


def test_iterations_on_disk(tmp_path: Path) -> None:
    roots = DataRoots(tmp_path / "data", tmp_path / "data" / "run_dump")
    archives, links = layout.archive_dir(roots, "walk"), layout.link_dir(roots, "walk")
    archives.mkdir(parents=True)
    links.mkdir()
    for n in (3, 12):
        (archives / layout.file_name(layout.iteration_key(DIGEST, "n", n), "x", "npy")).touch()
    (links / layout.file_name(layout.iteration_key(DIGEST, "n", 5), "", "json")).touch()
    (archives / f"{DIGEST}__n7.invalid.json").touch()  # invalidated
    (archives / f"{'f' * 20}__n2.json").touch()  # another family
    (archives / f"{DIGEST}__n.json").touch()
    (archives / f"{DIGEST}__nx4.json").touch()  # another parameter
    assert layout.iterations_on_disk(roots, "walk", DIGEST, "n") == {3, 5, 12}
    assert layout.iterations_on_disk(roots, "nothing", DIGEST, "n") == set()
