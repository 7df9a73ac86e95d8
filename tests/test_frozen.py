"""The immutable value classes (``smttask.frozen.Frozen``): equality, hashing, repr, no
assignment."""

from __future__ import annotations

import pytest

from smttask.codeid import Fingerprint
from smttask.codewalk import CodePart


def test_values_compare_hash_show_and_refuse_assignment() -> None:
    a = CodePart("m.f", "function", "ab", "source")
    b = CodePart("m.f", "function", "ab", "source")
    assert a == b and hash(a) == hash(b) and a != CodePart("m.f", "function", "ab", "bytecode")
    assert repr(a) == "CodePart(name='m.f', kind='function', digest='ab', how='source')"
    fp = Fingerprint("d", (a,))
    assert fp == Fingerprint("d", (b,)) and fp != ("d", (a,))
    assert {fp: 1}[Fingerprint("d", (b,))] == 1
    with pytest.raises(AttributeError, match="cannot assign to field 'digest'"):
        a.digest = "cd"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'parts'"):
        del fp.parts  # type: ignore[misc]
    with pytest.raises(ValueError):
        CodePart._set(a, "too", "few")  # every field is given
