"""Code identity: what changes a function's fingerprint, and what does not."""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
import textwrap

import pytest

from smttask import codeid
from smttask.stalecode import StaleCodeWarning

BASE = """
import numpy as np

SCALE = 3


def helper(x):
    return x * SCALE


def f(x):
    '''Add one.'''
    return helper(x) + 1
"""


def _hex(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def fp(project, name, text, **kwargs):  # type: ignore[no-untyped-def]
    module = project.write_module(name, text, commit=False)
    return codeid.fingerprint(module.f, **kwargs)


def test_formatting_comments_and_docstrings_do_not_count(project):
    a = fp(project, "m_a", BASE)
    b = fp(
        project,
        "m_b",
        """
        import numpy as np
        SCALE = 3
        def helper(x):
            # a comment
            return (x *
                    SCALE)
        def f(x):
            '''Another docstring, much longer than the first one.'''
            return helper(x) + 1  # trailing comment
        """,
    )
    assert [p.how for p in a.parts] == ["source", "source", "value"]
    # Module names differ, so compare the parts' digests, not the names.
    assert [p.digest for p in a.parts] == [p.digest for p in b.parts]


@pytest.mark.parametrize(
    "change",
    [
        ("return helper(x) + 1", "return helper(x) + 100"),  # the function itself
        ("return x * SCALE", "return x * SCALE + 0.5"),  # a helper it calls
        ("SCALE = 3", "SCALE = 4"),  # a constant a helper reads
        ("return helper(x) + 1", "return helper(x) - 1"),
    ],
)
def test_what_the_code_computes_counts(project, change):
    before = fp(project, "m_before", BASE)
    after = fp(project, "m_before", BASE.replace(*change))
    assert before.digest != after.digest
    changed = after.changed_parts({p.name: p.digest for p in before.parts})
    assert len(changed) == 1


def test_fingerprints_are_stable_across_processes(project):
    project.write_module("m_proc", BASE)
    here = codeid.fingerprint(sys.modules["m_proc"].f).digest
    code = "import m_proc, smttask.codeid as c; print(c.fingerprint(m_proc.f).digest)"
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=project.root,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == here


def test_library_code_and_modules_do_not_count(project):
    got = fp(
        project,
        "m_lib",
        """
        import numpy as np
        from os.path import join

        def f(x):
            return np.sum(x) + len(join("a", "b"))
        """,
    )
    assert [p.name for p in got.parts] == ["m_lib.f"]


NP_CALLS = '''
import numpy as np
try:
    from os import path as osp
except ImportError:
    osp = None


def f(x):
    """Sum."""
    return np.sum(x) + len(osp.join("a", "b"))
'''


def test_methods_of_imported_modules_do_not_hide_the_source(project):
    # CPython compiles `np.sum(x)` differently when `np` is a module-level import: the check
    # that the source is the running code must compile it with the module's imports.
    a = fp(project, "m_np_a", NP_CALLS)
    b = fp(project, "m_np_b", NP_CALLS.replace('"""Sum."""', '"""Another docstring."""'))
    assert [p.how for p in a.parts] == ["source"]
    assert a.parts[0].digest == b.parts[0].digest


def test_helpers_in_other_project_modules_count(project):
    project.write_module("m_util", "def smooth(x):\n    return x / 2\n", commit=False)
    before = fp(project, "m_main", "from m_util import smooth\ndef f(x):\n    return smooth(x)\n")
    assert "m_util.smooth" in [p.name for p in before.parts]
    project.write_module("m_util", "def smooth(x):\n    return x / 3\n", commit=False)
    after = fp(project, "m_main", "from m_util import smooth\ndef f(x):\n    return smooth(x)\n")
    assert after.changed_parts({p.name: p.digest for p in before.parts}) == ["m_util.smooth"]


def test_classes_and_instances_of_project_classes_count(project):
    text = """
    class Model:
        def predict(self, x):
            return x + 1

    MODEL = Model()

    def f(x):
        return MODEL.predict(x)
    """
    before = fp(project, "m_cls", text)
    assert "m_cls.Model" in [p.name for p in before.parts]
    after = fp(project, "m_cls", text.replace("x + 1", "x + 2"))
    assert before.digest != after.digest


def test_recursive_helpers_terminate(project):
    got = fp(
        project,
        "m_rec",
        """
        def even(n):
            return True if n == 0 else odd(n - 1)

        def odd(n):
            return False if n == 0 else even(n - 1)

        def f(n):
            return even(n)
        """,
    )
    assert sorted(p.name for p in got.parts) == ["m_rec.even", "m_rec.f", "m_rec.odd"]


def test_own_decorator_does_not_count_other_decorators_do(project):
    text = """
    import functools

    def mark(fn):
        return fn

    @mark
    @functools.lru_cache
    def f(x):
        return x
    """
    module = project.write_module("m_deco", text, commit=False)
    mark = module.mark
    plain = codeid.fingerprint(module.f)
    skipping = codeid.fingerprint(module.f, own_decorator=lambda obj: obj is mark)
    assert plain.parts[0].digest != skipping.parts[0].digest
    without = project.write_module(
        "m_deco2", "import functools\n@functools.lru_cache\ndef f(x):\n    return x\n", commit=False
    )
    assert codeid.fingerprint(without.f).parts[0].digest == skipping.parts[0].digest


def test_source_edited_after_import_falls_back_to_the_running_code(project):
    module = project.write_module("m_edit", "def f(x):\n    return x + 1\n", commit=False)
    from_source = codeid.fingerprint(module.f)
    assert from_source.parts[0].how == "source"
    # The file changes on disk, the module in memory does not: the fingerprint must describe
    # the code that runs (x + 1), never the new source (x + 100).
    project.write("m_edit.py", "def f(x):\n    return x + 100\n")
    import linecache

    linecache.clearcache()
    with pytest.warns(StaleCodeWarning, match="runs the code imported before .*m_edit.py"):
        again = codeid.fingerprint(module.f)
    assert again.parts[0].how == "bytecode"
    assert again.digest != from_source.digest
    edited = project.write_module("m_edit", "def f(x):\n    return x + 100\n", commit=False)
    assert codeid.fingerprint(edited.f).digest not in (again.digest, from_source.digest)


STALE = """
import warnings
warnings.simplefilter("always")
import m
from smttask import codeid
print(m.f(1), codeid.fingerprint(m.f).parts[0].how)
"""


def test_an_out_of_date_compiled_file_is_reported_and_removed(tmp_path):
    # Python accepts a .pyc whose header matches the source's whole-second mtime and size:
    # a file edited twice within one second without changing size keeps its old code. The
    # running code is identified by its byte code, the user is told, and the .pyc removed.
    source = tmp_path / "m.py"
    source.write_text("def f(x):\n    return x + 1\n")
    second = source.stat().st_mtime_ns // 10**9 - 5
    os.utime(source, ns=(second * 10**9 + 10, second * 10**9 + 10))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", STALE], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    first = run()
    assert first.stdout.split() == ["2", "source"], first.stderr
    pyc = tmp_path / "__pycache__" / f"m.{sys.implementation.cache_tag}.pyc"
    assert pyc.exists()
    os.utime(pyc, ns=(second * 10**9 + 50, second * 10**9 + 50))  # compiled at +0.05 s
    source.write_text("def f(x):\n    return x + 2\n")  # edited at +0.1 s, same size
    os.utime(source, ns=(second * 10**9 + 100, second * 10**9 + 100))

    stale = run()
    assert stale.stdout.split() == ["2", "bytecode"], stale.stderr  # Python ran the old code
    assert "StaleCodeWarning: f runs old code" in stale.stderr
    assert str(pyc) in stale.stderr
    assert not pyc.exists()

    fresh = run()
    assert fresh.stdout.split() == ["3", "source"], fresh.stderr
    assert "StaleCodeWarning" not in fresh.stderr


def test_uses_adds_code_and_rejects_non_code(project):
    module = project.write_module(
        "m_uses",
        "def hidden(x):\n    return x\ndef f(x):\n    return globals()['hid' + 'den'](x)\n",
        commit=False,
    )
    assert [p.name for p in codeid.fingerprint(module.f).parts] == ["m_uses.f"]
    declared = codeid.fingerprint(module.f, uses=[module.hidden])
    assert [p.name for p in declared.parts] == ["m_uses.f", "m_uses.hidden"]
    with pytest.raises(TypeError, match="uses= lists functions and classes"):
        codeid.fingerprint(module.f, uses=[42])


def test_canonical_form_is_pinned():
    # The canonical text is an on-disk format (it names result files): pin it.
    tree = ast.parse(textwrap.dedent("def f(x, y=2):\n    'doc'\n    return x + y\n"))
    text = codeid.canonical(tree.body[0])
    assert text == (
        "FunctionDef(name=str:'f';args=arguments(args=[arg(arg=str:'x';),arg(arg=str:'y';),];"
        "defaults=[Constant(value=int:2;),];);body=[Return(value=BinOp(left=Name(id=str:'x';);"
        "op=Add();right=Name(id=str:'y';););),];)"
    )
    assert _hex(text) == "7c3c38018d117e6e5c1c666a5b897487"


RICH = '''
import numpy as np
class A:
    """doc"""
    x: int = 3
    def m(self, *a, k=1, **kw):
        async def g():
            async with self as s:
                return [i async for i in s if i]
        return {k: v for k, v in kw.items()}, f'{k!r:>3}', lambda q: q**2, a[1:2, ...]
def f(x, /, y: 'int' = 2, *, z):
    try:
        match x:
            case [1, *rest]: pass
            case {'a': b}: pass
    except* ValueError as e:
        raise
    finally:
        global G
    return x if y else z
'''


def test_canonical_form_is_the_same_under_every_python():
    # Measured identical under Python 3.11, 3.12 and 3.13 (whose trees differ in empty
    # fields such as type_params): a new Python must not change every digest.
    assert _hex(codeid.canonical(ast.parse(RICH))) == ("66022f305c7d02bbd19d49833d03edfb")


def test_helpers_reached_through_a_project_module_count(project):
    project.write("pkg/__init__.py", "")
    project.write("pkg/util.py", "def smooth(x):\n    return x / 2\n")
    text = "import pkg.util\nimport m_flat\ndef f(x):\n    return pkg.util.smooth(x) + m_flat.K\n"
    project.write_module("m_flat", "K = 1\n", commit=False)
    before = fp(project, "m_attr", text)
    assert {"pkg.util.smooth", "m_attr.f:m_flat.K"} <= {p.name for p in before.parts}
    project.write("pkg/util.py", "def smooth(x):\n    return x / 3\n")
    for name in ("pkg", "pkg.util"):
        sys.modules.pop(name, None)
    after = fp(project, "m_attr", text)
    assert after.changed_parts({p.name: p.digest for p in before.parts}) == ["pkg.util.smooth"]


# -- what a function reads besides its globals: each of these once kept the fingerprint -------


@pytest.mark.parametrize(
    ("text", "change"),
    [
        # a helper's default value reads a constant when the helper is defined
        (
            "K = 2\ndef helper(x, k=K):\n    return x * k\ndef f(x):\n    return helper(x)\n",
            ("K = 2", "K = 3"),
        ),
        # a project decorator wraps a helper: the wrapper's code runs too
        (
            "import functools\n"
            "def twice(fn):\n"
            "    @functools.wraps(fn)\n"
            "    def wrapper(x):\n"
            "        return fn(fn(x))\n"
            "    return wrapper\n"
            "@twice\n"
            "def helper(x):\n"
            "    return x + 1\n"
            "def f(x):\n"
            "    return helper(x)\n",
            ("return fn(fn(x))", "return fn(x)"),
        ),
        # a method inherited from a project base class
        (
            "class Base:\n    def scale(self, x):\n        return 2 * x\n"
            "class Model(Base):\n    pass\n"
            "def f(x):\n    return Model().scale(x)\n",
            ("return 2 * x", "return 3 * x"),
        ),
        # a class attribute
        (
            "class Model:\n    k = 2\n    def scale(self, x):\n        return self.k * x\n"
            "def f(x):\n    return Model().scale(x)\n",
            ("k = 2", "k = 5"),
        ),
        # two lambdas share a name; the second changes
        (
            "A = lambda x: x + 1\nB = lambda x: x * 2\ndef f(x):\n    return A(x) + B(x)\n",
            ("x * 2", "x * 3"),
        ),
        # a mutable global holding data
        (
            "PARAMS = {'a': 1, 'b': [1, 2]}\ndef f(x):\n    return x * PARAMS['b'][1]\n",
            ("[1, 2]", "[1, 3]"),
        ),
        # an instance of a project class, by its state
        (
            "class Scale:\n    def __init__(self, k):\n        self.k = k\n"
            "S = Scale(2)\ndef f(x):\n    return x * S.k\n",
            ("S = Scale(2)", "S = Scale(3)"),
        ),
        # a partial of a project function
        (
            "import functools\ndef mul(x, k):\n    return x * k\n"
            "M = functools.partial(mul, k=2)\ndef f(x):\n    return M(x)\n",
            ("k=2)", "k=3)"),
        ),
    ],
    ids=[
        "helper-default",
        "decorator",
        "base-class",
        "class-attr",
        "lambdas",
        "dict",
        "instance",
        "partial",
    ],
)
def test_what_a_function_reads_besides_its_globals_counts(project, text, change):
    before = fp(project, "m_reads", text)
    after = fp(project, "m_reads", text.replace(*change))
    assert before.digest != after.digest
    assert after.changed_parts(before.as_dict())


def test_a_module_imported_inside_the_function_counts(project):
    project.write_module("m_inner_util", "def smooth(x):\n    return x / 2\n", commit=False)
    sys.modules.pop("m_inner_util")  # not imported yet when the fingerprint is taken
    text = "def f(x):\n    from m_inner_util import smooth\n    return smooth(x)\n"
    before = fp(project, "m_inner", text)
    assert "m_inner_util.smooth" in before.as_dict()
    project.write_module("m_inner_util", "def smooth(x):\n    return x / 3\n", commit=False)
    after = fp(project, "m_inner", text)
    assert after.changed_parts(before.as_dict()) == ["m_inner_util.smooth"]


def test_project_classes_named_in_annotations_count(project):
    text = (
        "class Params:\n    def rate(self):\n        return 2.0\n"
        "def f(p: Params) -> float:\n    return p.rate()\n"
    )
    module = project.write_module("m_ann", text, commit=False)
    before = codeid.fingerprint(module.f, annotations=[module.Params, float])
    assert "m_ann.Params" in before.as_dict()
    module = project.write_module("m_ann", text.replace("2.0", "3.0"), commit=False)
    after = codeid.fingerprint(module.f, annotations=[module.Params, float])
    assert after.changed_parts(before.as_dict()) == ["m_ann.Params"]


def test_task_defaults_do_not_count_when_they_are_inputs(project):
    a = project.write_module("m_def_a", "def f(x, k=2):\n    return x * k\n", commit=False)
    b = project.write_module("m_def_b", "def f(x, k=3):\n    return x * k\n", commit=False)
    digest = lambda m, **kw: codeid.fingerprint(m.f, **kw).parts[0].digest  # noqa: E731
    assert digest(a) != digest(b)
    assert digest(a, defaults_are_inputs=True) == digest(b, defaults_are_inputs=True)


def test_untracked_objects_are_named(project):
    got = fp(
        project,
        "m_log",
        "import logging\nimport threading\nLOCK = threading.Lock()\n"
        "log = logging.getLogger('x')\ndef f(x):\n    with LOCK:\n        log.info('x')\n"
        "    return x\n",
    )
    assert got.untracked == ["m_log.f:LOCK", "m_log.f:log"]


def test_bytecode_fingerprints_are_stable_across_processes(project):
    # Set constants are written in a fixed order: string hashing must not change them.
    text = "def f(x):\n    return x in {'alpha', 'beta', 'gamma', 'delta'}\n"
    project.write_module("m_set", text)
    code = (
        "import m_set, pathlib, linecache\n"
        "pathlib.Path('m_set.py').write_text('def f(x):\\n    return 0\\n')\n"
        "linecache.clearcache()\n"
        "import smttask.codeid as c\n"
        "fp = c.fingerprint(m_set.f)\n"
        "print(fp.parts[0].how, fp.digest)\n"
    )
    seen = set()
    for seed in ("1", "2", "3"):
        project.write("m_set.py", text)
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=project.root,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            check=True,
        )
        seen.add(out.stdout.strip())
    assert len(seen) == 1 and next(iter(seen)).startswith("bytecode ")
