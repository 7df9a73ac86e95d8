"""The Snakemake backend: snapshots of generated files, determinism, layouts, batches, resources.

Regenerate the snapshots after an intended change with ``SMTTASK_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from smttask.compile.plan import make_plan
from smttask.compile.snakemake import (
    NAMED_MAX_RULES,
    SlurmOptions,
    SnakemakeOptions,
    build_rules,
    compile_snakemake,
    identifier,
    validate_options,
)
from smttask.errors import CompileError
from smttask.graph import trace

SNAPSHOTS = Path(__file__).parent / "snapshots"

PIPELINE = """
from typing import List
from smttask import MemoizedTask, RecordedTask

@MemoizedTask
def grid(n: int) -> List[float]:
    return [i / n for i in range(n)]

@RecordedTask(threads=2, resources={"mem_mb": 800, "runtime": "10m"}, retries=2)
def simulate(grid: List[float], rate: float) -> List[float]:
    return [rate * x for x in grid]

@RecordedTask(resources={"slurm_partition": "short"})
def measure(trace: List[float]) -> float:
    return max(trace)

@RecordedTask
def collect(values: List[float]) -> float:
    return sum(values)
"""


@pytest.fixture
def mod(project):
    return project.write_module("compile_tasks", PIPELINE)


def pipeline(mod, rates=(0.5, 1.0, 2.0)):
    g = mod.grid(n=4)
    return mod.collect(values=[mod.measure(trace=mod.simulate(grid=g, rate=r)) for r in rates])


def render(project, tasks, *, batch=None, slurm=None, **options):
    """The plan of `tasks` and its Snakemake files; `options` as `export` takes them."""
    opts = validate_options(options)
    plan = make_plan(trace(tasks), root=project.root, outdir=project.root / "build", batch=batch)
    opts = SnakemakeOptions(layout=opts.layout, slurm=slurm or SlurmOptions())
    return plan, compile_snakemake(plan, opts)


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("SMTTASK_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}; create it with SMTTASK_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{name} differs from its snapshot {path}"


def test_named_layout_snapshot(project, mod):
    slurm = SlurmOptions(account="lab", partition="debug", status_command="squeue")
    _, files = render(project, pipeline(mod), slurm=slurm)
    check_snapshot("named/Snakefile", files["Snakefile"])
    check_snapshot("named/profiles/slurm/config.yaml", files["profiles/slurm/config.yaml"])
    check_snapshot("named/profiles/local/config.yaml", files["profiles/local/config.yaml"])
    check_snapshot("named/README.md", files["README.md"])


def test_wildcard_layout_snapshot(project, mod):
    _, files = render(project, pipeline(mod), layout="wildcard")
    check_snapshot("wildcard/Snakefile", files["Snakefile"])
    check_snapshot("wildcard/jobs.json", files["jobs.json"])


def test_batched_snapshot(project, mod):
    _, files = render(project, pipeline(mod, rates=(1.0, 2.0, 3.0, 4.0, 5.0)), batch={"measure": 2})
    check_snapshot("batched/Snakefile", files["Snakefile"])


def test_same_graph_renders_byte_identical_files(project, mod):
    _, first = render(project, pipeline(mod))
    top = pipeline(mod)
    firsts = [n.task for n in trace(top).jobs()[:3]]
    _, again = render(project, [*reversed(firsts), top])  # other targets, same DAG
    assert first == again
    assert str(project.root) not in "".join(first.values())


def test_files_of_the_output_folder(project, mod):
    plan, files = render(project, pipeline(mod))
    jobs = {j.key: j for j in plan.jobs}
    assert len(jobs) == 7  # 3 simulate, 3 measure, 1 collect; grid runs inside simulate
    expected = {
        "Snakefile",
        "README.md",
        "profiles/local/config.yaml",
        "profiles/slurm/config.yaml",
        "profiles/slurm/logs/README.md",
    }
    expected |= {f"tasks/{j.name}/{k}.json" for k, j in jobs.items()}
    assert set(files) == expected
    for key, job in jobs.items():
        desc = json.loads(files[f"tasks/{job.name}/{key}.json"])
        assert desc["digest"] == key and desc["task"] == job.name
        assert all(o.startswith(f"data/run_dump/{job.name}/{key}") for o in job.outputs)


def test_rules_carry_threads_resources_retries(project, mod):
    _, files = render(project, pipeline(mod))
    text = files["Snakefile"]
    sim = text[text.index("rule simulate_") :]
    sim = sim[: sim.index("shell:")]
    assert "threads: 2" in sim and "retries: scheduled_retries(2)" in sim
    assert "smttask_attempt=job_attempt," in sim
    assert "mem_mb=lambda wildcards, attempt: 800 * attempt" in sim
    assert 'runtime="10m"' in sim
    measure = text[text.index("rule measure_") :]
    assert 'slurm_partition="short"' in measure[: measure.index("shell:")]


def test_rule_inputs_are_task_file_and_upstream_outputs(project, mod):
    plan, files = render(project, pipeline(mod))
    text = files["Snakefile"]
    collect = next(j for j in plan.jobs if j.name == "collect")
    rule = text[text.index(f"rule collect_{collect.key[:8]}") :]
    assert f'task=ancient("build/tasks/collect/{collect.key}.json")' in rule
    for up in collect.upstream:
        assert f'"data/run_dump/measure/{up}.json"' in rule
    # a lone task's label is its name; the log is named after the rule
    assert f'"build/logs/collect/collect_{collect.key[:8]}.log"' in rule
    assert 'message:\n        "collect"' in rule
    run = (
        '    JOB_ENV + " " + CLIENT + " run --quiet --attempt {resources.smttask_attempt} "\n'
        '    "{input.task:q} > {log:q} 2>&1"\n'
    )
    assert text.count(run) == 1


def test_auto_layout_picks_by_size(project, mod):
    few = [mod.measure(trace=[float(i)]) for i in range(NAMED_MAX_RULES)]
    plan, files = render(project, few)
    assert build_rules(plan).layout == "named" and "jobs.json" not in files
    many = [*few, mod.measure(trace=[-1.0])]
    plan, files = render(project, many)
    ruleset = build_rules(plan)
    assert ruleset.layout == "wildcard" and len(ruleset.rules) == 1
    assert len(json.loads(files["jobs.json"])["measure"]["keys"]) == NAMED_MAX_RULES + 1
    plan, _ = render(project, many, batch=100)
    assert build_rules(plan).layout == "named"  # 6 batch rules


def test_batches_never_hold_dependent_tasks(project, mod):
    a = mod.collect(values=[1.0])
    b = mod.collect(values=[a, 2.0])
    c = mod.collect(values=[3.0])
    plan, _ = render(project, [b, c], batch=10)
    rules = build_rules(plan).rules
    assert [len(r.keys) for r in rules] == [2, 1]
    assert set(rules[0].keys) == {a.key, c.key} and rules[1].keys == (b.key,)
    assert rules[1].upstream == (f"data/run_dump/collect/{a.key}.json",)


def test_batched_runtime_adds_up(project, mod):
    sims = [mod.simulate(grid=[1.0], rate=float(r)) for r in range(3)]
    plan, _ = render(project, sims, batch={"simulate": 3})
    (rule,) = build_rules(plan).rules
    assert dict(rule.resources)["runtime"] == "30"
    assert rule.threads == "2" and rule.retries == 2


def test_bad_resources_are_compile_errors(project):
    mod = project.write_module(
        "bad_resources",
        """
        from smttask import RecordedTask

        @RecordedTask(resources={"mem_mb": 1.5})
        def f(x: int) -> int:
            return x
    """,
    )
    with pytest.raises(CompileError, match=r"mem_mb=1.5 must be an integer or a string"):
        render(project, mod.f(x=1))


def test_unknown_layout(project, mod):
    with pytest.raises(CompileError, match="Unknown layout 'flat'"):
        render(project, mod.measure(trace=[1.0]), layout="flat")


def test_only_memoized_tasks_give_no_job(project, mod):
    with pytest.raises(CompileError, match="no recorded task"):
        render(project, mod.grid(n=3))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("simulate", "simulate"),
        ("all", "all_"),
        ("lambda", "lambda_"),
        ("3d", "t_3d"),
        ("a-b", "a_b"),
        ("é", "_"),
    ],
)
def test_rule_names_are_identifiers(name, expected):
    assert identifier(name) == expected
    assert expected.isidentifier()


def test_rules_sharing_a_folder_constrain_the_digest(project, mod):
    other = project.write_module(
        "compile_tasks_other",
        """
        from smttask import RecordedTask, TaskOutput

        class Pair(TaskOutput):
            low: float
            high: float

        @RecordedTask
        def measure(trace: list) -> Pair:
            return min(trace), max(trace)
        """,
    )
    tasks = [mod.measure(trace=[1.0]), other.measure(trace=[1.0]), mod.collect(values=[2.0])]
    plan, files = render(project, tasks, layout="wildcard")
    rules = {r.name: r for r in build_rules(plan, "wildcard").rules}
    assert set(rules) == {"collect", "measure", "measure_2"}
    assert rules["collect"].constraint == ""  # alone in its folder
    assert rules["measure"].constraint == rules["measure_2"].constraint == "[0-9a-f]+"
    patterns = {rules["measure"].outputs, rules["measure_2"].outputs}
    assert patterns == {
        ("data/run_dump/measure/{key}.json",),
        ("data/run_dump/measure/{key}_low.json", "data/run_dump/measure/{key}_high.json"),
    }
    assert files["Snakefile"].count('key="[0-9a-f]+"') == 2


def test_iterative_tasks_name_their_iteration(project):
    it = project.write_module(
        "compile_iterative",
        """
        from smttask import RecordedIterativeTask, TaskOutput

        class Out(TaskOutput):
            n: int
            x: float

        @RecordedIterativeTask("n", map={"n": "start_n", "x": "x0"})
        def walk(x0: float, n: int, start_n: int = 0) -> Out:
            x = x0
            for _ in range(start_n, n):
                x = x / 2 + 1
            return n, x
        """,
    )
    tasks = [it.walk(x0=1.0, n=3), it.walk(x0=1.0, n=5)]
    family = tasks[0].family_digest
    plan, _ = render(project, tasks)
    names = [r.name for r in build_rules(plan).rules]
    assert names == [f"walk_n_3_{family[:8]}__n3", f"walk_n_5_{family[:8]}__n5"]
    plan, files = render(project, tasks, layout="wildcard")
    (rule,) = build_rules(plan, "wildcard").rules
    assert rule.outputs == ("data/run_dump/walk/{key}_n.json", "data/run_dump/walk/{key}_x.json")
    assert json.loads(files["jobs.json"])["walk"]["keys"] == [f"{family}__n3", f"{family}__n5"]
