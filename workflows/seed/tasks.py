"""The seed example: one analysis function turned into a recorded task."""

from typing import Tuple

import numpy as np
from scityping.numpy import Array

from smttask import RecordedTask


@RecordedTask
def analyze(arr: Array, dt: float, nbins: int) -> Tuple[float, float, float]:
    """Mean, scaled standard deviation and the fraction of values in the top bin."""
    counts, _ = np.histogram(arr, bins=nbins)
    mu = float(np.mean(arr))
    sigma = float(np.std(arr) * dt)
    p = float(counts[-1] / counts.sum())
    return (mu, sigma, p)
