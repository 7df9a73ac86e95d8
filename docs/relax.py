"""The tasks of the tutorial (tutorial.ipynb): noisy relaxation curves, and their time
constants fitted back."""

import numpy as np
from scityping.numpy import Array

from smttask import ParamColl, RecordedTask, TaskOutput


class Relaxation(ParamColl):
    """One simulated experiment: a decay exp(-t/tau), measured with noise."""

    tau: float  # the true time constant
    sigma: float = 0.05  # the measurement noise
    seed: int = 0


@RecordedTask
def measure(tau: float, sigma: float, seed: int, n: int = 60, dt: float = 0.1) -> Array[float, 1]:
    """`n` noisy samples of exp(-t/tau), `dt` apart."""
    t = dt * np.arange(n)
    return np.exp(-t / tau) + np.random.default_rng(seed).normal(0.0, sigma, size=n)


class Fit(TaskOutput):
    tau: float  # the fitted time constant
    rmse: float  # root mean square of the residuals


@RecordedTask
def fit(trace: Array[float, 1], dt: float = 0.1) -> Fit:
    """A straight line through log(trace), over the samples well above the noise, each
    weighted by its value (the noise of log(x) is about sigma / x)."""
    t = dt * np.arange(len(trace))
    keep = trace > 0.3
    slope, intercept = np.polyfit(t[keep], np.log(trace[keep]), 1, w=trace[keep])
    model = np.exp(intercept + slope * t)
    return Fit(tau=float(-1 / slope), rmse=float(np.sqrt(np.mean((trace - model) ** 2))))
