"""Tasks of the example pipeline: how well does a short noisy recording reveal the time
constant of an Ornstein–Uhlenbeck process?

    time_grid (memoized) → simulate (one per τ, σ, seed) → analyze (one per run)
                         → summarize (all runs) → plot_summary (an SVG figure)
"""

from typing import List, Tuple

import numpy as np
from scityping.numpy import Array

from smttask import MemoizedTask, ParamColl, RecordedTask


class OUParams(ParamColl):
    """The parameters of one simulation: time constant, noise amplitude, random seed."""

    tau: float
    sigma: float
    seed: int


@MemoizedTask
def time_grid(duration: float, dt: float) -> Array[float, 1]:
    """Sample times; cheap, so it is recomputed inside every job that needs it."""
    return np.arange(0.0, duration, dt)


@RecordedTask(resources={"mem_mb": 500, "runtime": 5})
def simulate(times: Array[float, 1], tau: float, sigma: float, seed: int) -> Array[float, 1]:
    """One trajectory of dx = -x/τ dt + σ dW (exact discretization), starting at rest."""
    rng = np.random.default_rng(seed)
    dt = float(times[1] - times[0])
    decay = np.exp(-dt / tau)
    noise = sigma * np.sqrt(tau / 2 * (1 - decay**2)) * rng.standard_normal(len(times))
    x = np.empty(len(times))
    x[0] = 0.0
    for i in range(1, len(times)):
        x[i] = decay * x[i - 1] + noise[i]
    return x


@RecordedTask
def analyze(trace: Array[float, 1], dt: float) -> Tuple[float, float]:
    """Estimate (τ, variance) from the lag-1 autocorrelation, ρ = exp(-dt/τ)."""
    x = trace[len(trace) // 10 :]  # drop the transient from x = 0
    x = x - x.mean()
    rho = float(np.dot(x[:-1], x[1:]) / np.dot(x, x))
    tau_hat = -dt / np.log(rho) if 0 < rho < 1 else float("inf")
    return (float(tau_hat), float(x.var()))


@RecordedTask
def summarize(
    params: List[Tuple[float, float]], fits: List[Tuple[float, float]]
) -> Array[float, 2]:
    """One row per (τ, σ): τ, σ, mean and spread of τ̂ over seeds, mean and expected variance."""
    rows = []
    for tau, sigma in sorted(set(params)):
        est = np.array([f for p, f in zip(params, fits) if p == (tau, sigma)])
        rows.append(
            [tau, sigma, est[:, 0].mean(), est[:, 0].std(), est[:, 1].mean(), sigma**2 * tau / 2]
        )
    return np.array(rows)


@RecordedTask
def plot_summary(table: Array[float, 2]) -> str:
    """An SVG figure: estimated against true τ, one colour per σ, with the identity line."""
    width, height, pad = 360, 300, 50
    top = float(max(table[:, 0].max(), (table[:, 2] + table[:, 3]).max()) * 1.1)

    def sx(v: float) -> float:
        return pad + v / top * (width - 1.5 * pad)

    def sy(v: float) -> float:
        return height - pad - v / top * (height - 1.5 * pad)

    colors = ["#1b6ca8", "#d1495b", "#66a182", "#edae49"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(top)}" y2="{sy(top)}" stroke="#999" '
        f'stroke-dasharray="4"/>',
        f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(top)}" y2="{sy(0)}" stroke="black"/>',
        f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(top)}" stroke="black"/>',
        f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">true τ</text>',
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" '
        f'text-anchor="middle">estimated τ</text>',
    ]
    sigmas = sorted(set(table[:, 1]))
    for i, sigma in enumerate(sigmas):
        color = colors[i % len(colors)]
        shift = 8 * (i - (len(sigmas) - 1) / 2)  # side by side where points coincide
        for tau, _, mean, spread, *_ in table[table[:, 1] == sigma]:
            x = sx(tau) + shift
            parts.append(
                f'<line x1="{x:.1f}" y1="{sy(mean - spread):.1f}" x2="{x:.1f}" '
                f'y2="{sy(mean + spread):.1f}" stroke="{color}"/>'
                f'<circle cx="{x:.1f}" cy="{sy(mean):.1f}" r="4" fill="{color}"/>'
            )
        parts.append(
            f'<text x="{pad + 10}" y="{pad / 2 + 14 * i}" fill="{color}">σ = {sigma:g}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
