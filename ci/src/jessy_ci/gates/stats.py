"""Is a benchmark slower than its baseline? A two-sided Mann-Whitney U test over raw samples. Pure, no I/O.

Benchmark samples are noisy and rarely normal, so, like benchstat, we compare ranks rather than means: the U test asks
whether one set of samples tends to be larger than the other, without assuming a distribution.

- Small samples (both sides at most ``EXACT_MAX_SAMPLES``): the exact permutation distribution of the rank sum,
  ties included (midranks), so 5 runs against 5 runs can reach p = 2/252 ≈ 0.008.
- Larger samples: the normal approximation with tie correction and continuity correction.

Smaller is better (ns/op, B/op, allocs/op): ``compare`` calls a significant increase of the median "slower".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Classification = Literal["faster", "slower", "no significant change", "inconclusive"]

EXACT_MAX_SAMPLES = 10
"""Both sides at most this many samples: exact p-value. C(20, 10) = 184756 orderings, counted by dynamic
programming over rank sums, not enumerated."""


@dataclass(frozen=True)
class Verdict:
    """The comparison of one benchmark's baseline samples with its current samples.

    ``change_pct`` is the change of the median, relative to the baseline median (+10.0 = 10% larger = slower).
    ``p_value`` is None when the test was not run (inconclusive: too few samples).
    Medians are None only for a side with no samples at all."""

    baseline_median: float | None
    current_median: float | None
    change_pct: float | None
    p_value: float | None
    classification: Classification
    baseline_n: int = 0
    current_n: int = 0

    @property
    def significant(self) -> bool:
        return self.classification in ("faster", "slower")


def _check(name: str, values: Sequence[float]) -> list[float]:
    out = [float(v) for v in values]
    if not out:
        raise ValueError(f"{name}: need at least one sample")
    if any(not math.isfinite(v) for v in out):
        raise ValueError(f"{name}: samples must be finite numbers")
    return out


def _midranks(pooled: list[float]) -> list[float]:
    """Rank of each value of ``pooled`` (1-based), ties sharing the mean of their ranks."""
    order = sorted(range(len(pooled)), key=lambda i: pooled[i])
    ranks = [0.0] * len(pooled)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and pooled[order[j + 1]] == pooled[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1  # positions i..j (0-based) share the mean rank
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        i = j + 1
    return ranks


def _exact_p(doubled_ranks: list[int], n1: int, observed: int) -> float:
    """Two-sided exact p-value of the doubled rank sum ``observed`` of a subset of size ``n1``: the share of all
    C(N, n1) subsets whose doubled rank sum is at least as far from the mean as the observed one."""
    # counts[k][s] = number of subsets of size k of the ranks seen so far with doubled rank sum s
    counts: list[dict[int, int]] = [{} for _ in range(n1 + 1)]
    counts[0][0] = 1
    for r in doubled_ranks:
        for k in range(n1, 0, -1):
            below = counts[k - 1]
            here = counts[k]
            for s, c in below.items():
                here[s + r] = here.get(s + r, 0) + c
    total = math.comb(len(doubled_ranks), n1)
    mean = n1 * (len(doubled_ranks) + 1)  # mean rank sum n1 (N + 1) / 2, doubled: an integer
    distance = abs(observed - mean)
    extreme = sum(c for s, c in counts[n1].items() if abs(s - mean) >= distance)
    return min(1.0, extreme / total)


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test: the probability, if ``a`` and ``b`` came from the same
    distribution, of a difference in ranks at least as large as the observed one. 1.0 when every value is equal.

    Raises ValueError when a side is empty or holds a non-finite value."""
    xs = _check("a", a)
    ys = _check("b", b)
    n1, n2 = len(xs), len(ys)
    pooled = xs + ys
    ranks = _midranks(pooled)
    if n1 <= EXACT_MAX_SAMPLES and n2 <= EXACT_MAX_SAMPLES:
        doubled = [round(2 * r) for r in ranks]  # midranks are multiples of 1/2
        return _exact_p(doubled, n1, sum(doubled[:n1]))
    n = n1 + n2
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    ties = sum(t**3 - t for t in _tie_sizes(pooled))
    variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = max(0.0, abs(u1 - mu) - 0.5) / math.sqrt(variance)
    return min(1.0, math.erfc(z / math.sqrt(2)))


def _tie_sizes(values: list[float]) -> list[int]:
    sizes: dict[float, int] = {}
    for v in values:
        sizes[v] = sizes.get(v, 0) + 1
    return [t for t in sizes.values() if t > 1]


def compare(
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    alpha: float = 0.05,
    min_samples: int = 5,
) -> Verdict:
    """Classify ``current`` against ``baseline`` (smaller is better).

    - "inconclusive" when either side has fewer than ``min_samples`` samples: never a pass nor a failure by itself;
    - "slower" / "faster" when p < ``alpha`` and the current median is larger / smaller than the baseline median;
    - "no significant change" otherwise (including p < alpha with equal medians)."""
    if min_samples < 1:
        raise ValueError(f"min_samples must be at least 1, got {min_samples}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    base = _check("baseline", baseline) if baseline else []
    cur = _check("current", current) if current else []
    base_median = statistics.median(base) if base else None
    cur_median = statistics.median(cur) if cur else None
    change = _change_pct(base_median, cur_median)
    if len(base) < min_samples or len(cur) < min_samples:
        return Verdict(base_median, cur_median, change, None, "inconclusive", len(base), len(cur))
    assert base_median is not None and cur_median is not None  # both sides are non-empty here
    p = mann_whitney_u(base, cur)
    classification: Classification = "no significant change"
    if p < alpha and cur_median > base_median:
        classification = "slower"
    elif p < alpha and cur_median < base_median:
        classification = "faster"
    return Verdict(base_median, cur_median, change, p, classification, len(base), len(cur))


def _change_pct(base: float | None, cur: float | None) -> float | None:
    if base is None or cur is None:
        return None
    if base == 0:
        return 0.0 if cur == 0 else math.copysign(math.inf, cur)
    return (cur - base) / abs(base) * 100
