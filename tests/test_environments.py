"""environments/<name>.toml → typed Environment; --env NAME; .env.example documents every variable the services read."""

from __future__ import annotations

import re

import pytest

from jessy_ci import config
from jessy_ci.errors import UsageError
from jessy_ci.steps import ResourceLimits
from tests.conftest import ROOT


@pytest.mark.parametrize("name", ["development", "staging", "production"])
def test_every_committed_environment_parses(project: config.Project, name: str) -> None:
    env = config.load_environment(ROOT, name, project)
    assert env.name == name
    assert set(env.ports) == {"jessy-core", "jessy-api"} and set(env.urls) == {"jessy-core", "jessy-api"}
    assert env.log_level in config.LOG_LEVELS
    assert env.service_env["JESSY_MAX_LAYER_BYTES"] == str(env.limits.max_layer_bytes)


def test_development_is_the_laptop(project: config.Project) -> None:
    env = config.load_environment(ROOT, "development", project)
    assert env.ports == {"jessy-core": 8080, "jessy-api": 3000}
    assert env.urls["jessy-api"] == "http://127.0.0.1:3000"
    assert env.limits == config.Limits(cpus=None, memory_mb=None, max_layer_bytes=1048576, core_timeout_ms=2000)
    assert env.resource_limits is None  # serve --env development needs no cgroups (no root) on a laptop


def test_cpus_and_memory_mb_are_the_limits_of_every_service_process(project: config.Project) -> None:
    staging = config.load_environment(ROOT, "staging", project)
    assert staging.resource_limits == ResourceLimits(cpus=1.0, memory_mb=512)
    only_memory = config.parse_environment("[limits]\nmemory_mb = 64", "x", project, "environments/x.toml")
    assert only_memory.resource_limits == ResourceLimits(memory_mb=64)
    none = config.parse_environment("[limits]\nmax_layer_bytes = 10", "x", project, "environments/x.toml")
    assert (none.limits.cpus, none.limits.memory_mb, none.resource_limits) == (None, None, None), "unset: unlimited"


def test_unknown_environment_lists_the_known_ones(project: config.Project) -> None:
    with pytest.raises(UsageError) as e:
        config.load_environment(ROOT, "prod", project)
    assert str(e.value) == "--env 'prod': unknown environment; expected one of: development, production, staging"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('log_level = "loud"', "environments/x.toml: log_level: expected one of debug, info, warn, error, got 'loud'"),
        ("[ports]\njessy-core = 0", "environments/x.toml: ports.jessy-core: expected a port number from 1 to 65535"),
        ("[ports]\nfeatures = 1", "environments/x.toml: ports.features: expected a served component"),
        ('[urls]\njessy-api = "ftp://x"', "environments/x.toml: urls.jessy-api: expected an http(s) URL"),
        ("[limits]\nmemory_mb = 1.5", "environments/x.toml: limits.memory_mb: expected a whole number"),
        ("[limits]\nmemory_mb = 8", "environments/x.toml: limits.memory_mb: expected a whole number from 16 to"),
        ("[limits]\ncpus = 0", "environments/x.toml: limits.cpus: expected a number from 0.1 to 256"),
        ("[limits]\ngpus = 1", "environments/x.toml: limits.gpus: unknown key"),
        ("colour = 1", "environments/x.toml: colour: unknown key"),
        ("x = ", "environments/x.toml: not valid TOML"),
    ],
)
def test_bad_environment_files_name_file_key_and_expectation(project: config.Project, text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        config.parse_environment(text, "x", project, "environments/x.toml")
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


def _read_by_services() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.glob("services/*/src/**/*.rs"), *ROOT.glob("services/*/**/*.go")]:
        names |= set(re.findall(r'"(JESSY_[A-Z_]+)"', path.read_text()))
    return names


def test_env_example_documents_every_variable_the_services_read() -> None:
    documented = set(re.findall(r"^#? ?(JESSY_[A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    read = _read_by_services()
    assert read >= {"JESSY_CORE_PORT", "JESSY_API_PORT", "JESSY_CORE_URL", "JESSY_DATA_DIR"}
    assert read - documented == set()
