"""The read-only root filesystem gate, on the probe's real output from the engine (tests/samples/readonly/)."""

from __future__ import annotations

import pytest

from jessy_ci.gates.readonly import Expectation, judge
from tests.conftest import SAMPLES

CORE = (SAMPLES / "readonly" / "jessy-core.txt").read_text()
API_DEGRADED = (SAMPLES / "readonly" / "jessy-api-core-unreachable.txt").read_text()
OWNER = Expectation(health_status=200, uses_data=True, owns_data=True)
READER = Expectation(health_status=200, uses_data=True, owns_data=False)


def test_the_owner_of_the_volume_writes_only_there_and_keeps_serving() -> None:
    assert judge(CORE, OWNER) == (
        True,
        "10 directories refused a write (Permission denied, Read-only file system); /data writable; "
        "health 200 before and after",
    )


def test_a_reader_that_can_write_the_volume_fails_naming_it() -> None:
    assert judge(CORE, READER) == (False, "/data is writable, expected read-only")


def test_a_reader_refused_the_volume_passes_when_it_serves() -> None:
    serving = API_DEGRADED.replace(" 503", " 200")
    ok, detail = judge(serving, READER)
    assert ok
    assert detail.endswith("/data read-only for it; health 200 before and after")


def test_a_service_that_does_not_answer_as_expected_fails_with_its_status() -> None:
    assert judge(API_DEGRADED, READER) == (
        False,
        "health before the writes: 503, expected 200; health after the writes: 503, expected 200",
    )
    # the orphan api's expected answer is 503: the same output passes there
    assert judge(API_DEGRADED, Expectation(503, uses_data=True, owns_data=False))[0]


def test_a_directory_outside_the_volume_that_took_a_write_fails() -> None:
    writable = CORE.replace("write /tmp denied Read-only file system", "write /tmp writable")
    assert judge(writable, OWNER) == (False, "writable outside the data volume: /tmp")


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("", "health before the writes: none, expected 200"),
        ("health before 200\nhealth after 200\n", "the probe tried no directory"),
        ("\n".join(line for line in CORE.splitlines() if not line.startswith("health after")), "health after"),
        ("\n".join(line for line in CORE.splitlines() if not line.startswith(("data", "read"))), "not probed"),
    ],
)
def test_missing_findings_fail(output: str, problem: str) -> None:
    ok, detail = judge(output, OWNER)
    assert not ok and problem in detail


def test_a_service_without_a_data_volume_is_judged_on_the_rest() -> None:
    no_data = "\n".join(line for line in CORE.splitlines() if not line.startswith(("data", "read")))
    assert judge(no_data, Expectation(200, uses_data=False, owns_data=False)) == (
        True,
        "10 directories refused a write (Permission denied, Read-only file system); health 200 before and after",
    )
