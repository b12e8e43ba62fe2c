"""jessy-ci.toml parsing: the repo's own config, and every kind of bad input naming file, key and expectation."""

from __future__ import annotations

import pytest

from jessy_ci import config
from jessy_ci.errors import UsageError

MINIMAL = """
[components.core]
language = "rust"
path = "services/core"
[components.core.serve]
port = 8080
port_env = "PORT"
health = "/health"
url_env = "CORE_URL"

[components.api]
language = "go"
path = "services/api"
services = ["core"]
[components.api.serve]
port = 3000
port_env = "API_PORT"
health = "/api/health"
url_env = "API_URL"
needs = ["core"]
"""


def parse(text: str) -> config.Project:
    return config.parse(text, "jessy-ci.toml", exists=lambda p: not p.startswith("missing"))


def test_the_repository_config_is_valid(project: config.Project) -> None:
    assert list(project.components) == ["jessy-core", "jessy-api", "features", "jessy-ci"]
    api = project.components["jessy-api"]
    assert api.language == "go" and api.tests == ("unit", "integration")
    assert [s.name for s in project.services_for(project.components["features"])] == [
        "jessy-core",
        "jessy-api",
        "jessy-api-orphan",
    ]
    orphan = project.services["jessy-api-orphan"]
    assert orphan.health_status == 503 and orphan.needs == ()
    assert orphan.env["JESSY_CORE_URL"].endswith(":9")
    assert project.thresholds.coverage == 80


def test_defaults_and_dependency_order() -> None:
    p = parse(MINIMAL)
    assert p.components["core"].tests == ("unit", "integration")
    assert p.thresholds == config.Thresholds()
    assert [s.name for s in p.services_for(p.components["api"])] == ["core"]
    assert p.services["api"].needs == ("core",)


def test_select_keeps_config_order_and_rejects_unknown_names() -> None:
    p = parse(MINIMAL)
    assert [c.name for c in p.select(["api", "core"])] == ["core", "api"]
    assert [c.name for c in p.select([])] == ["core", "api"]
    with pytest.raises(UsageError, match=r"--component 'nope': unknown component; expected one of: core, api"):
        p.select(["nope"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[components.api]", "[components.api]\ncolour = 'red'"), r"components\.api\.colour: unknown key"),
        (('path = "services/api"', 'path = "missing/api"'), r"components\.api\.path: expected an existing folder"),
        (('language = "go"', 'language = "cobol"'), r"components\.api\.language: expected one of rust, go, python"),
        (("port = 3000", 'port = "3000"'), r"components\.api\.serve\.port: expected a port number"),
        (('services = ["core"]', 'services = "core"'), r"components\.api\.services: expected a list of strings"),
        (('services = ["core"]', 'services = ["db"]'), r"components\.api\.services: unknown service 'db'"),
        (('health = "/health"', 'health = "health"'), r"components\.core\.serve\.health: expected an HTTP path"),
        (("[components.core.serve]", "tests = ['e2e']\n[components.core.serve]"), r"components\.core\.tests"),
    ],
)
def test_bad_config_names_file_key_and_expectation(change: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*change, 1)
    assert text != MINIMAL
    with pytest.raises(UsageError, match=rf"^jessy-ci\.toml: {message}"):
        parse(text)


def test_dependency_cycle_is_named() -> None:
    text = MINIMAL.replace('url_env = "CORE_URL"', 'url_env = "CORE_URL"\nneeds = ["api"]')
    with pytest.raises(UsageError, match=r"dependency cycle (core -> api -> core|api -> core -> api)"):
        parse(text)


def test_not_toml_and_no_components() -> None:
    with pytest.raises(UsageError, match=r"^jessy-ci\.toml: not valid TOML"):
        parse("[components")
    with pytest.raises(UsageError, match=r"expected at least one \[components\.NAME\] table"):
        parse("[thresholds]\ncoverage = 50\n")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[thresholds]\ncoverage = 120", r"thresholds\.coverage: expected a number from 0 to 100, got 120"),
        ("[thresholds]\nseverity = ['SEVERE']", r"thresholds\.severity: expected a list of strings from UNKNOWN"),
        ("[services.x]\ncomponent = 'nope'\nurl_env = 'X'", r"services\.x\.component: expected the name of a comp"),
        ("[services.x]\ncomponent = 'api'\nhealth_status = 9", r"services\.x\.health_status: expected an HTTP status"),
        ("[extra]\na = 1", r"extra: unknown key"),
    ],
)
def test_bad_top_level_tables(table: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(MINIMAL + "\n" + table + "\n")
