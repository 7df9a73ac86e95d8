"""Cost of parameter sweeps: making every point of an outer product, against a baseline
measured in the same run (itertools.product feeding a plain frozen dataclass).

    python bench/bench_params.py [--repeat N]

For 1,000, 10,000 and 100,000 points (three expanded fields), prints the best time over N
repeats of ``list(coll.outer())`` and of the baseline, the ratio smttask / baseline, and the
time to index one point of a 10^9-point product (computed without making the others).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from collections.abc import Callable

from smttask import ParamColl, expand


class Sim(ParamColl):
    tau: float
    sigma: float
    seed: int
    dt: float = 0.01


@dataclasses.dataclass(frozen=True)
class Plain:
    tau: float
    sigma: float
    seed: int
    dt: float = 0.01


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(repeat: int) -> None:
    print(f"{'points':>8} {'smttask':>10} {'baseline':>10} {'ratio':>6}")
    for n_tau, n_sigma, n_seed in ((10, 10, 10), (25, 20, 20), (50, 50, 40)):
        taus = [0.1 * i for i in range(n_tau)]
        sigmas = [0.5 * i for i in range(n_sigma)]
        seeds = list(range(n_seed))
        coll = Sim(tau=expand(taus), sigma=expand(sigmas), seed=expand(seeds))

        def ours(coll: Sim = coll) -> object:
            return list(coll.outer())

        def baseline(
            axes: tuple[list[float], list[float], list[int]] = (taus, sigmas, seeds),
        ) -> object:
            return [Plain(tau=t, sigma=s, seed=k) for t, s, k in itertools.product(*axes)]

        points = len(coll.outer())
        t_ours, t_base = best(ours, repeat), best(baseline, repeat)
        print(f"{points:>8} {t_ours * 1e3:>8.1f}ms {t_base * 1e3:>8.1f}ms {t_ours / t_base:>6.1f}")
    huge = Sim(tau=expand(range(1000)), sigma=expand(range(1000)), seed=expand(range(1000)))
    outer = huge.outer()
    t_index = best(lambda: outer[123_456_789], repeat)
    print(f"one point of a {len(outer):,}-point product: {t_index * 1e6:.0f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    main(parser.parse_args().repeat)
