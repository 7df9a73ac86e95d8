"""The example pipeline: a parameter sweep of a simulation, analysed run by run, summarized.

Export it and run it with Snakemake (from the project root)::

    smttask export-snakemake workflows/ou_sweep/pipeline.py:tasks -o build/
    snakemake -s build/Snakefile --cores 2

or compute it in this process, then write the figure and print the table::

    python -m workflows.ou_sweep.pipeline

The sweep is a parameter collection (``OUParams``, see docs/howto-sweeps.md): its outer product
gives the points, and each point fills the parameters of one ``simulate`` task.
"""

from pathlib import Path

from smttask import expand, workflow_args
from workflows.ou_sweep.tasks import (
    OUParams,
    analyze,
    plot_summary,
    simulate,
    summarize,
    time_grid,
)

#: The sweep: every combination of τ, σ and seed (3 × 2 × 2 = 12 simulations).
SWEEP = OUParams(tau=expand([0.5, 1.0, 2.0]), sigma=expand([0.5, 1.0]), seed=expand([1, 2]))
DT = 0.01
DURATION = 200.0
# Another script may run this pipeline with other values of the globals above:
#     run_workflow("workflows/ou_sweep/pipeline.py", SWEEP=OUParams(tau=expand([4.0]), ...))
workflow_args(globals())

grid = time_grid(duration=DURATION, dt=DT)
points = SWEEP.outer()
runs = [simulate(times=grid, **point) for point in points]
fits = [analyze(trace=run, dt=DT) for run in runs]
summary = summarize(params=[(p.tau, p.sigma) for p in points], fits=fits)
figure = plot_summary(table=summary)

#: What `smttask export-snakemake workflows/ou_sweep/pipeline.py:tasks` exports.
tasks = [figure]


def main() -> None:
    table = summary.run()
    print("    τ     σ   mean τ̂   sd τ̂   var   expected var")
    for row in table:
        print("  ".join(f"{v:5.2f}" for v in row))
    out = Path("figures/ou_sweep.svg")
    out.parent.mkdir(exist_ok=True)
    out.write_text(figure.run())
    print(f"Figure: {out}")


if __name__ == "__main__":
    main()
