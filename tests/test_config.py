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


PYTHON_COMPONENT = """
[components.app]
language = "python"
path = "tools/app"
"""


def test_python_components_name_their_environment_and_pytest_arguments(project: config.Project) -> None:
    dogfood = project.components["jessy-ci"]
    assert dogfood.tests == ("unit",) and dogfood.test_extra == "dev"
    assert dogfood.pytest_markers == "not slow and not engine"
    app = parse(
        PYTHON_COMPONENT
        + 'test_extra = "test"\ntest_group = "ci"\npytest_markers = "not slow"\npytest_args = ["-x", "-k", "fast"]\n'
    ).components["app"]
    assert (app.test_extra, app.test_group, app.requirements) == ("test", "ci", None)
    assert (app.pytest_markers, app.pytest_args) == ("not slow", ("-x", "-k", "fast"))
    assert parse(PYTHON_COMPONENT + "coverage_threshold = 75\n").components["app"].coverage_threshold == 75
    plain = parse(PYTHON_COMPONENT).components["app"]
    assert (plain.test_extra, plain.test_group, plain.requirements, plain.pytest_args) == (None, None, None, ())
    assert parse(PYTHON_COMPONENT + 'requirements = "requirements-dev.txt"\n').components["app"].requirements == (
        "requirements-dev.txt"
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ('test_extra = ""', r"components\.app\.test_extra: expected a non-empty string, got ''"),
        ("test_extra = 3", r"components\.app\.test_extra: expected a non-empty string, got 3"),
        ('test_extra = "te st"', r"components\.app\.test_extra: expected an extra or dependency group name"),
        ('test_group = "-x"', r"components\.app\.test_group: expected an extra or dependency group name"),
        ('requirements = "missing.txt"', r"components\.app\.requirements: expected an existing file"),
        (
            'requirements = "r.txt"\ntest_extra = "test"',
            r"components\.app\.requirements: expected either requirements or test_extra/test_group, not both",
        ),
        ('pytest_args = "-x"', r"components\.app\.pytest_args: expected a list of strings, got '-x'"),
        ('pytest_args = ["-m", "slow"]', r"components\.app\.pytest_args: expected arguments without -m"),
        ('pytest_args = ["-mslow"]', r"components\.app\.pytest_args: expected arguments without -m"),
        ("pytest_markers = []", r"components\.app\.pytest_markers: expected a non-empty string, got \[\]"),
        ('test_extras = "test"', r"components\.app\.test_extras: unknown key"),
        ("coverage_threshold = 101", r"components\.app\.coverage_threshold: expected a number from 0 to 100"),
        ('coverage_threshold = "80"', r"components\.app\.coverage_threshold: expected a number from 0 to 100"),
    ],
)
def test_bad_python_keys_name_the_key_and_what_was_expected(keys: str, message: str) -> None:
    with pytest.raises(UsageError, match=rf"^jessy-ci\.toml: {message}"):
        config.parse(
            PYTHON_COMPONENT + keys + "\n",
            "jessy-ci.toml",
            exists=lambda p: p in ("tools/app", "tools/app/r.txt", "tools/app/requirements-dev.txt"),
        )


def test_the_requirements_file_is_relative_to_the_component() -> None:
    seen: list[str] = []

    def exists(path: str) -> bool:
        seen.append(path)
        return True

    config.parse(PYTHON_COMPONENT + 'requirements = "../shared/req.txt"\n', "jessy-ci.toml", exists)
    assert seen == ["tools/app", "tools/shared/req.txt"]


def test_python_keys_on_another_language_are_bad_input() -> None:
    with pytest.raises(UsageError, match=r"components\.core\.test_extra: expected a key of python components only"):
        parse(MINIMAL.replace('path = "services/core"', 'path = "services/core"\ntest_extra = "dev"'))
