"""The example pipeline: a parameter sweep of a simulation, analysed run by run, summarized.

Export it and run it with Snakemake (from the project root)::

    smttask export-snakemake workflows/ou_sweep/pipeline.py:tasks -o build/
    snakemake -s build/Snakefile --cores 2

or compute it in this process, then write the figure and print the table::

    python -m workflows.ou_sweep.pipeline
"""

from pathlib import Path

from workflows.ou_sweep.tasks import analyze, plot_summary, simulate, summarize, time_grid

TAUS = [0.5, 1.0, 2.0]
SIGMAS = [0.5, 1.0]
SEEDS = [1, 2]
DT = 0.01

grid = time_grid(duration=200.0, dt=DT)
runs = [
    ((tau, sigma), simulate(times=grid, tau=tau, sigma=sigma, seed=seed))
    for tau in TAUS
    for sigma in SIGMAS
    for seed in SEEDS
]
fits = [analyze(trace=run, dt=DT) for _, run in runs]
summary = summarize(params=[p for p, _ in runs], fits=fits)
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
