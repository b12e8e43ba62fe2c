"""Mann-Whitney U and the benchmark verdict, on synthetic samples whose truth is known."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from jessy_ci.gates.stats import EXACT_MAX_SAMPLES, compare, mann_whitney_u


def noisy(rng: random.Random, centre: float, noise_pct: float, n: int) -> list[float]:
    return [centre * (1 + rng.gauss(0, noise_pct / 100)) for _ in range(n)]


# --- mann_whitney_u -------------------------------------------------------------------------------------------------


def test_fully_separated_five_against_five_is_the_smallest_exact_p() -> None:
    # 2 of the C(10, 5) = 252 orderings are as extreme (all lower, all higher)
    assert mann_whitney_u([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert mann_whitney_u([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) == pytest.approx(2 / 252)


def test_identical_samples_give_p_one() -> None:
    assert mann_whitney_u([3.0, 3.0, 3.0], [3.0, 3.0, 3.0]) == 1.0
    assert mann_whitney_u([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]) == 1.0
    big = [float(i) for i in range(30)]
    assert mann_whitney_u(big, big) == 1.0


def test_exact_p_matches_brute_force_enumeration_with_ties() -> None:
    rng = random.Random(7)
    for _ in range(50):
        a = [float(rng.randint(0, 3)) for _ in range(rng.randint(1, 5))]
        b = [float(rng.randint(0, 3)) for _ in range(rng.randint(1, 5))]
        pooled = sorted(a + b)
        # midranks by hand
        rank = {v: (pooled.index(v) + 1 + len(pooled) - pooled[::-1].index(v)) / 2 for v in pooled}
        mean = len(a) * (len(pooled) + 1) / 2
        observed = abs(sum(rank[v] for v in a) - mean)
        values = a + b
        subsets = list(itertools.combinations(range(len(values)), len(a)))
        extreme = sum(abs(sum(rank[values[i]] for i in s) - mean) >= observed - 1e-9 for s in subsets)
        assert mann_whitney_u(a, b) == pytest.approx(extreme / len(subsets)), (a, b)


def test_normal_approximation_for_large_samples() -> None:
    n = EXACT_MAX_SAMPLES + 10
    low = [float(i) for i in range(n)]
    assert mann_whitney_u(low, [v + 1000 for v in low]) < 1e-6
    p_overlap = mann_whitney_u(low, [v + 0.5 for v in low])
    assert 0.5 < p_overlap <= 1.0


def test_rejects_empty_and_non_finite_samples() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        mann_whitney_u([], [1.0])
    with pytest.raises(ValueError, match="finite"):
        mann_whitney_u([1.0, math.nan], [1.0])


# --- compare --------------------------------------------------------------------------------------------------------


def test_thirty_percent_slowdown_with_low_noise_is_slower() -> None:
    rng = random.Random(1)
    base = noisy(rng, 1000, 2, 10)
    cur = noisy(rng, 1300, 2, 10)
    v = compare(base, cur)
    assert v.classification == "slower"
    assert v.significant
    assert v.p_value is not None and v.p_value < 0.05
    assert v.change_pct == pytest.approx(30, abs=5)


def test_thirty_percent_speedup_is_faster() -> None:
    rng = random.Random(2)
    v = compare(noisy(rng, 1000, 2, 8), noisy(rng, 700, 2, 8))
    assert v.classification == "faster"
    assert v.change_pct is not None and v.change_pct < -20


def test_five_percent_change_within_ten_percent_noise_is_no_significant_change() -> None:
    rng = random.Random(3)
    v = compare(noisy(rng, 1000, 10, 6), noisy(rng, 1050, 10, 6))
    assert v.classification == "no significant change"
    assert v.p_value is not None and v.p_value >= 0.05


def test_thirty_percent_difference_buried_in_huge_noise_is_no_significant_change() -> None:
    rng = random.Random(4)
    v = compare(noisy(rng, 1000, 80, 5), noisy(rng, 1300, 80, 5))
    assert v.classification == "no significant change"


def test_fewer_than_min_samples_is_inconclusive_never_a_pass() -> None:
    v = compare([1.0, 1.0, 1.0, 1.0], [9.0, 9.0, 9.0, 9.0, 9.0])
    assert v.classification == "inconclusive"
    assert v.p_value is None
    assert not v.significant
    assert (v.baseline_n, v.current_n) == (4, 5)
    assert v.change_pct == pytest.approx(800.0)
    empty = compare([], [1.0] * 5)
    assert empty.classification == "inconclusive"
    assert empty.baseline_median is None and empty.change_pct is None


def test_min_samples_is_configurable() -> None:
    assert compare([1.0, 2.0], [1.0, 2.0], min_samples=2).classification == "no significant change"


def test_identical_samples_are_no_change() -> None:
    samples = [100.0, 101.0, 99.0, 100.5, 100.2]
    v = compare(samples, list(samples))
    assert v.classification == "no significant change"
    assert v.p_value == 1.0
    assert v.change_pct == 0.0
    assert v.baseline_median == v.current_median == 100.2


def test_alpha_decides_significance() -> None:
    base, cur = [1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]  # p = 2/252 ≈ 0.0079
    assert compare(base, cur, alpha=0.05).classification == "slower"
    assert compare(base, cur, alpha=0.005).classification == "no significant change"


def test_zero_baseline_median() -> None:
    assert compare([0.0] * 5, [0.0] * 5).change_pct == 0.0
    assert compare([0.0] * 5, [1.0] * 5).change_pct == math.inf


def test_bad_parameters_are_errors() -> None:
    with pytest.raises(ValueError, match="min_samples"):
        compare([1.0], [1.0], min_samples=0)
    with pytest.raises(ValueError, match="alpha"):
        compare([1.0], [1.0], alpha=1.5)
