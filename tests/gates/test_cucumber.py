"""BDD results from pytest-bdd's cucumber JSON: real reports of the features component (tests/samples/bdd)."""

from __future__ import annotations

import pytest

from jessy_ci.gates import cucumber
from tests.conftest import SAMPLES


def _features(name: str) -> list[cucumber.Feature]:
    return cucumber.parse((SAMPLES / "bdd" / name).read_bytes(), name)


def test_a_passing_run_lists_every_feature_scenario_and_step_as_passed() -> None:
    features = _features("features-bdd-passing.cucumber.json")
    assert [f.uri for f in features] == [
        "features/degraded.feature",
        "features/health.feature",
        "features/layers.feature",
        "features/validation.feature",
    ]
    assert all(f.passed for f in features)
    health = features[1].scenarios[0]
    assert health.name == "jessy-core reports that it is healthy"
    assert (health.steps[0].keyword, health.steps[0].name) == ("When", "I check the health of jessy-core")


def test_the_failing_step_carries_the_assertion_and_the_steps_after_it_never_ran() -> None:
    health = next(f for f in _features("features-bdd-failing.cucumber.json") if not f.passed)
    assert health.name == "Health of jessy-core and jessy-api"
    failed = health.scenarios[0]
    assert failed.status == "failed"
    step = failed.failing_step
    assert step is not None
    assert step.name == 'the JSON field "service" is "jessy-kernel"'
    assert "AssertionError: service is 'jessy-core', expected 'jessy-kernel'" in step.message
    assert [s.status for s in failed.steps][-3:] == ["failed", "skipped", "skipped"]
    assert health.scenarios[1].status == "passed"


@pytest.mark.parametrize("data", [b"{not json", b'{"features": []}'])
def test_anything_but_a_cucumber_report_is_a_value_error_naming_the_file(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"^bdd/x\.cucumber\.json: "):
        cucumber.parse(data, "bdd/x.cucumber.json")
