"""jessy-ci.toml → a typed, frozen Project.

Every error names the file, the key and what was expected, and raises UsageError (exit 2).
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from jessy_ci.errors import UsageError
from jessy_ci.imagerefs import PLATFORMS, Images, check_mirror, check_platform, normalize, parse_ref
from jessy_ci.steps import (
    MAX_LOAD_CONCURRENCY,
    MAX_LOAD_INSTANCES,
    MAX_LOAD_LAYER_BYTES,
    MAX_LOAD_RATE,
    MAX_LOAD_SECONDS,
    MAX_SEED_LAYERS,
    LoadMix,
    ResourceLimits,
)

CONFIG_FILE = "jessy-ci.toml"
LANGUAGES = ("rust", "go", "python")
TEST_KINDS = ("unit", "integration", "bdd")
SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")

Language = Literal["rust", "go", "python"]
TestKind = Literal["unit", "integration", "bdd"]


@dataclass(frozen=True)
class Serve:
    """How a component runs as a service: the port it listens on and how its health is checked."""

    port: int
    port_env: str
    health: str
    url_env: str
    needs: tuple[str, ...] = ()
    bind_env: str | None = None
    volume_init: tuple[str, ...] = ()  # arguments of the service's own binary that initialise its data volume


@dataclass(frozen=True)
class Component:
    name: str
    language: Language
    path: str
    tests: tuple[TestKind, ...]
    lint_paths: tuple[str, ...] = (".",)
    services: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict[str, str])
    data_env: str | None = None
    dockerfile: str | None = None
    image: str | None = None
    size_budget_mb: float | None = None
    serve: Serve | None = None
    coverage_threshold: float | None = None  # this component's coverage gate (percent), instead of [thresholds]
    # Python components: where their test environment comes from (pyproject.toml's dependencies plus this extra
    # or dependency group, or a requirements file relative to the component), and what pytest is given.
    test_extra: str | None = None
    test_group: str | None = None
    requirements: str | None = None
    pytest_markers: str | None = None
    pytest_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    """One running instance of a component, bound into test containers under its own name."""

    name: str
    component: str
    port: int
    port_env: str
    health: str
    url_env: str
    needs: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict[str, str])
    bind_env: str | None = None
    health_status: int = 200
    volume_init: tuple[str, ...] = ()


@dataclass(frozen=True)
class Thresholds:
    coverage: float = 80.0
    max_regression: float = 10.0
    severity: tuple[str, ...] = ("CRITICAL",)


@dataclass(frozen=True)
class Registry:
    address: str = ""
    username: str = ""


@dataclass(frozen=True)
class LoadConfig:
    """``[load]`` of jessy-ci.toml or of an environment: the settings of `jessy-ci load`, each None where the table
    does not set it (the command line wins, then the environment, then jessy-ci.toml, then the default)."""

    target: str | None = None
    instances: int | None = None
    rate: int | None = None
    duration: float | None = None
    concurrency: int | None = None
    seed_layers: int | None = None
    layer_bytes: int | None = None
    layers_path: str | None = None
    sample_interval: float | None = None
    mix: LoadMix | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float | None = None
    min_rps: float | None = None


@dataclass(frozen=True)
class Project:
    name: str
    source_url: str
    components: Mapping[str, Component]
    services: Mapping[str, Service]
    env: Mapping[str, str]
    thresholds: Thresholds
    registry: Registry
    images: Images = field(default_factory=Images)
    load: LoadConfig = field(default_factory=LoadConfig)

    def select(self, names: list[str] | tuple[str, ...]) -> list[Component]:
        """The named components (all when none is named), in config order; an unknown name is a UsageError."""
        for name in names:
            if name not in self.components:
                known = ", ".join(self.components)
                raise UsageError(f"--component {name!r}: unknown component; expected one of: {known}")
        return [c for c in self.components.values() if not names or c.name in names]

    def services_for(self, component: Component) -> list[Service]:
        """Every service the component's tests need, dependencies first (needs are closed transitively)."""
        return self.services_closure(component.services)

    def served(self) -> list[Service]:
        """The dev environment (``serve``): the service of every component with a [serve] table, dependencies
        first."""
        return self.services_closure(tuple(c.name for c in self.components.values() if c.serve is not None))

    def services_closure(self, names: tuple[str, ...]) -> list[Service]:
        """The named services and every service they need, dependencies first."""
        ordered: list[Service] = []

        def visit(name: str) -> None:
            service = self.services[name]
            for dep in service.needs:
                visit(dep)
            if service not in ordered:
                ordered.append(service)

        for name in names:
            visit(name)
        return ordered


class _Table:
    """A TOML table read with its dotted path, so that every error can name the key."""

    def __init__(self, data: Mapping[str, object], where: str, file: str) -> None:
        self.data = data
        self.where = where
        self.file = file
        self.used: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, expected: str, got: object) -> UsageError:
        return UsageError(f"{self.file}: {self._key(key)}: expected {expected}, got {got!r}")

    def get(self, key: str) -> object | None:
        self.used.add(key)
        return self.data.get(key)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value:
            raise self.fail(key, "a non-empty string", value)
        return value

    def opt_text(self, key: str) -> str | None:
        return self.text(key) if self.get(key) is not None else None

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.fail(key, f"a number from {low:g} to {high:g}", value)
        return float(value)

    def whole(self, key: str, low: int, high: int, default: int | None = None, what: str = "a whole number") -> int:
        """An integer from ``low`` to ``high`` (``default`` when the key is absent; required without one)."""
        value = self.get(key)
        if value is None and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"{what} from {low} to {high}", value)
        return value

    def port(self, key: str) -> int:
        return self.whole(key, 1, 65535, what="a port number")

    def strings(self, key: str, default: tuple[str, ...] = (), choices: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(key)
        if value is None:
            return default
        expected = f"a list of strings from {', '.join(choices)}" if choices else "a list of strings"
        if not isinstance(value, list):
            raise self.fail(key, expected, value)
        items = cast(list[object], value)
        for item in items:
            if not isinstance(item, str) or (choices and item not in choices):
                raise self.fail(key, expected, item)
        return tuple(cast(list[str], items))

    def env(self, key: str) -> dict[str, str]:
        table = self.opt_table(key)
        if table is None:
            return {}
        out: dict[str, str] = {}
        for name, value in table.data.items():
            if not isinstance(value, str):
                raise table.fail(name, "a string", value)
            out[name] = value
        return out

    def opt_table(self, key: str) -> _Table | None:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(key, "a table", value)
        return _Table(cast(dict[str, object], value), self._key(key), self.file)

    def tables(self, key: str) -> list[tuple[str, _Table]]:
        table = self.opt_table(key)
        if table is None:
            return []
        return [(name, cast(_Table, table.opt_table(name))) for name in table.data]

    def finish(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                raise UsageError(f"{self.file}: {self._key(key)}: unknown key; expected one of: {', '.join(allowed)}")


_PYTHON_KEYS = ("test_extra", "test_group", "requirements", "pytest_markers", "pytest_args")
_COMPONENT_KEYS = (
    "language",
    "path",
    "tests",
    "lint_paths",
    "services",
    "env",
    "data_env",
    "dockerfile",
    "image",
    "size_budget_mb",
    "serve",
    "coverage_threshold",
    *_PYTHON_KEYS,
)
_SERVE_KEYS = ("port", "port_env", "health", "url_env", "needs", "bind_env", "volume_init")
_SERVICE_KEYS = ("component", "url_env", "needs", "env", "health_status")
_DEFAULT_TESTS: dict[str, tuple[TestKind, ...]] = {
    "rust": ("unit", "integration"),
    "go": ("unit", "integration"),
    "python": ("unit",),
}


_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")  # PEP 508 names: extras and dependency groups


@dataclass(frozen=True)
class _PythonKeys:
    test_extra: str | None = None
    test_group: str | None = None
    requirements: str | None = None
    pytest_markers: str | None = None
    pytest_args: tuple[str, ...] = ()


def _python_keys(t: _Table, language: str, path: str, exists: Callable[[str], bool] | None) -> _PythonKeys:
    """The keys only a python component takes: where its test environment comes from and what pytest is given."""
    given = [key for key in _PYTHON_KEYS if t.data.get(key) is not None]
    if language != "python":
        if given:
            raise t.fail(given[0], "a key of python components only (this component is not python)", t.data[given[0]])
        return _PythonKeys()
    extra, group = t.opt_text("test_extra"), t.opt_text("test_group")
    for key, value in (("test_extra", extra), ("test_group", group)):
        if value is not None and not _NAME.match(value):
            raise t.fail(key, "an extra or dependency group name (letters, digits, '.', '-', '_')", value)
    requirements = t.opt_text("requirements")
    if requirements is not None:
        if extra or group:
            raise t.fail("requirements", "either requirements or test_extra/test_group, not both", requirements)
        if exists is not None and not exists(posixpath.normpath(posixpath.join(path, requirements))):
            raise t.fail("requirements", "an existing file, relative to the component's path", requirements)
    args = t.strings("pytest_args")
    for arg in args:
        if arg.startswith("-m"):
            raise t.fail("pytest_args", "arguments without -m (the marker expression goes in pytest_markers)", arg)
    return _PythonKeys(extra, group, requirements, t.opt_text("pytest_markers"), args)


def _component(name: str, t: _Table, exists: Callable[[str], bool] | None) -> Component:
    language = t.text("language")
    if language not in LANGUAGES:
        raise t.fail("language", f"one of {', '.join(LANGUAGES)}", language)
    path = t.text("path")
    if exists is not None and not exists(path):
        raise t.fail("path", "an existing folder of the repository", path)
    dockerfile = t.opt_text("dockerfile")
    if dockerfile is not None and exists is not None and not exists(dockerfile):
        raise t.fail("dockerfile", "an existing file of the repository", dockerfile)
    tests = t.strings("tests", _DEFAULT_TESTS[language], TEST_KINDS)
    serve_table = t.opt_table("serve")
    serve = None
    if serve_table is not None:
        health = serve_table.text("health")
        if not health.startswith("/"):
            raise serve_table.fail("health", "an HTTP path starting with /", health)
        serve = Serve(
            port=serve_table.port("port"),
            port_env=serve_table.text("port_env"),
            health=health,
            url_env=serve_table.text("url_env"),
            needs=serve_table.strings("needs"),
            bind_env=serve_table.opt_text("bind_env"),
            volume_init=serve_table.strings("volume_init"),
        )
        serve_table.finish(_SERVE_KEYS)
    budget = t.get("size_budget_mb")
    own_threshold = t.get("coverage_threshold")
    python = _python_keys(t, language, path, exists)
    component = Component(
        name=name,
        language=language,
        path=path,
        tests=cast(tuple[TestKind, ...], tests),
        lint_paths=t.strings("lint_paths", (".",)),
        services=t.strings("services"),
        env=t.env("env"),
        data_env=t.opt_text("data_env"),
        dockerfile=dockerfile,
        image=t.opt_text("image"),
        size_budget_mb=None if budget is None else t.number("size_budget_mb", 0, 0.001, 100_000),
        serve=serve,
        coverage_threshold=None if own_threshold is None else t.number("coverage_threshold", 0, 0, 100),
        test_extra=python.test_extra,
        test_group=python.test_group,
        requirements=python.requirements,
        pytest_markers=python.pytest_markers,
        pytest_args=python.pytest_args,
    )
    t.finish(_COMPONENT_KEYS)
    return component


def _services(components: Mapping[str, Component], extra: list[tuple[str, _Table]], file: str) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for c in components.values():
        if c.serve is not None:
            s = c.serve
            services[c.name] = Service(
                c.name, c.name, s.port, s.port_env, s.health, s.url_env, s.needs, c.env, s.bind_env, 200, s.volume_init
            )
    for name, t in extra:
        owner = t.text("component")
        serve = components[owner].serve if owner in components else None
        if serve is None:
            raise t.fail("component", "the name of a component that has a [serve] table", owner)
        services[name] = Service(
            name=name,
            component=owner,
            port=serve.port,
            port_env=serve.port_env,
            health=serve.health,
            url_env=t.text("url_env", serve.url_env),
            needs=t.strings("needs", serve.needs),
            env={**components[owner].env, **t.env("env")},
            bind_env=serve.bind_env,
            health_status=t.whole("health_status", 100, 599, 200, "an HTTP status code"),
            volume_init=serve.volume_init,
        )
        t.finish(_SERVICE_KEYS)
    return services


def _check_graph(components: Mapping[str, Component], services: Mapping[str, Service], file: str) -> None:
    for c in components.values():
        for name in c.services:
            if name not in services:
                raise UsageError(
                    f"{file}: components.{c.name}.services: unknown service {name!r}; "
                    f"expected one of: {', '.join(services)}"
                )
    for s in services.values():
        for name in s.needs:
            if name not in services:
                raise UsageError(
                    f"{file}: services.{s.name}.needs: unknown service {name!r}; expected one of: {', '.join(services)}"
                )

    def walk(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            cycle = " -> ".join((*trail[trail.index(name) :], name))
            raise UsageError(f"{file}: services: dependency cycle {cycle}; expected needs without cycles")
        for dep in services[name].needs:
            walk(dep, (*trail, name))

    for name in services:
        walk(name, ())


def _images(t: _Table) -> Images:
    """``[images]``: ``mirror`` (a registry prefix), ``platforms`` of release images, ``[images.replace]`` (a pulled
    reference → the reference to pull instead)."""
    mirror = t.get("mirror")
    if mirror is not None and not isinstance(mirror, str):
        raise t.fail("mirror", "a registry prefix like mirror.internal:5000/cache", mirror)
    platforms = t.strings("platforms", PLATFORMS)
    if not platforms:
        raise t.fail("platforms", "at least one platform", [])
    for platform in platforms:
        check_platform(platform, f"{t.file}: {t.where}.platforms")
    replace: dict[str, str] = {}
    table = t.opt_table("replace")
    entries: Mapping[str, object] = table.data if table is not None else {}
    for ref, value in entries.items():
        where = f"{t.file}: {t.where}.replace"
        if not isinstance(value, str):
            raise UsageError(f"{where}.{ref!r}: expected an image reference string, got {value!r}")
        parse_ref(value, f"{where}.{ref!r}")
        replace[normalize(ref, f"{where} key")] = value
    t.finish(("mirror", "platforms", "replace"))
    return Images(
        mirror=check_mirror(mirror, f"{t.file}: {t.where}.mirror") if mirror else "",
        replace=replace,
        platforms=platforms,
    )


_LOAD_KEYS = (
    "target",
    "instances",
    "rate",
    "duration",
    "concurrency",
    "seed_layers",
    "layer_bytes",
    "layers_path",
    "sample_interval",
    "mix",
    "p95_ms",
    "p99_ms",
    "max_error_rate",
    "min_rps",
)
_MIX_KEYS = ("read", "write", "health")


def _load(t: _Table | None, components: Mapping[str, Component]) -> LoadConfig:
    """``[load]``: every key optional, each checked against the bounds every load run keeps."""
    if t is None:
        return LoadConfig()

    def whole(key: str, low: int, high: int) -> int | None:
        return None if t.get(key) is None else t.whole(key, low, high)

    def number(key: str, low: float, high: float) -> float | None:
        return None if t.get(key) is None else t.number(key, 0, low, high)

    target = t.opt_text("target")
    served = [c.name for c in components.values() if c.serve is not None]
    if target is not None and target not in served:
        raise t.fail("target", f"a served component ({', '.join(served)})", target)
    layers_path = t.opt_text("layers_path")
    if layers_path is not None and not layers_path.startswith("/"):
        raise t.fail("layers_path", "an HTTP path starting with /", layers_path)
    mix_table = t.opt_table("mix")
    mix = None
    if mix_table is not None:
        weights = {key: mix_table.whole(key, 0, 1000, 0, "a whole number (a weight)") for key in _MIX_KEYS}
        mix_table.finish(_MIX_KEYS)
        if not any(weights.values()):
            raise t.fail("mix", "at least one weight above 0 (read, write, health)", dict(mix_table.data))
        mix = LoadMix(**weights)
    result = LoadConfig(
        target=target,
        instances=whole("instances", 1, MAX_LOAD_INSTANCES),
        rate=whole("rate", 1, MAX_LOAD_RATE),
        duration=number("duration", 0.1, MAX_LOAD_SECONDS),
        concurrency=whole("concurrency", 1, MAX_LOAD_CONCURRENCY),
        seed_layers=whole("seed_layers", 1, MAX_SEED_LAYERS),
        layer_bytes=whole("layer_bytes", 1, MAX_LOAD_LAYER_BYTES),
        layers_path=layers_path,
        sample_interval=number("sample_interval", 0.1, 10),
        mix=mix,
        p95_ms=number("p95_ms", 0.001, 3_600_000),
        p99_ms=number("p99_ms", 0.001, 3_600_000),
        max_error_rate=number("max_error_rate", 0, 1),
        min_rps=number("min_rps", 0, MAX_LOAD_RATE),
    )
    t.finish(_LOAD_KEYS)
    return result


def _toml(text: str, file: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{file}: not valid TOML: {e}") from None


def parse(text: str, file: str = CONFIG_FILE, exists: Callable[[str], bool] | None = None) -> Project:
    """Parse the configuration text. ``exists`` checks repository paths (skipped when None)."""
    data = _toml(text, file)
    root = _Table(data, "", file)
    project = root.opt_table("project") or _Table({}, "project", file)
    components: dict[str, Component] = {}
    for name, t in root.tables("components"):
        components[name] = _component(name, t, exists)
    if not components:
        raise UsageError(f"{file}: components: expected at least one [components.NAME] table")
    services = _services(components, root.tables("services"), file)
    _check_graph(components, services, file)

    th = root.opt_table("thresholds") or _Table({}, "thresholds", file)
    severity = th.strings("severity", ("CRITICAL",), SEVERITIES)
    thresholds = Thresholds(
        coverage=th.number("coverage", 80.0, 0, 100),
        max_regression=th.number("max_regression", 10.0, 0, 1000),
        severity=severity,
    )
    th.finish(("coverage", "max_regression", "severity"))
    reg = root.opt_table("registry") or _Table({}, "registry", file)
    registry = Registry(address=reg.text("address", ""), username=reg.text("username", ""))
    reg.finish(("address", "username"))
    images = _images(root.opt_table("images") or _Table({}, "images", file))
    result = Project(
        name=project.text("name", "jessy"),
        source_url=project.text("source", ""),
        components=components,
        services=services,
        env=root.env("env"),
        thresholds=thresholds,
        registry=registry,
        images=images,
        load=_load(root.opt_table("load"), components),
    )
    project.finish(("name", "source"))
    root.finish(("project", "components", "services", "env", "thresholds", "registry", "images", "load"))
    return result


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds jessy-ci.toml."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise UsageError(f"{CONFIG_FILE}: not found in {start} or any parent folder; expected the repository root")


def load(root: Path) -> Project:
    """Read and parse ``root/jessy-ci.toml``, checking that every path it names exists."""
    file = root / CONFIG_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{file}: cannot read: {e.strerror}") from None
    return parse(text, CONFIG_FILE, lambda p: (root / p).exists())


# --- environments: environments/<name>.toml ---------------------------------------------------------------------

ENVIRONMENTS_DIR = "environments"
LOG_LEVELS = ("debug", "info", "warn", "error")
_ENV_KEYS = ("description", "log_level", "registry", "ports", "urls", "limits", "env", "load")
_LIMIT_KEYS = ("cpus", "memory_mb", "max_layer_bytes", "core_timeout_ms")


@dataclass(frozen=True)
class Limits:
    """``[limits]``: ``cpus`` and ``memory_mb`` of every service process (None: not limited; applied by the host
    runner through cgroups), ``max_layer_bytes`` and ``core_timeout_ms`` (the services' own settings)."""

    cpus: float | None
    memory_mb: int | None
    max_layer_bytes: int
    core_timeout_ms: int


@dataclass(frozen=True)
class Environment:
    """Where the services run: ports per service, log level, resource limits, registry and public URLs.

    ``service_env`` is what every service process gets (JESSY_MAX_LAYER_BYTES, JESSY_CORE_TIMEOUT_MS,
    JESSY_LOG_LEVEL and the table's ``env``); ``load``: its settings of `jessy-ci load` (over jessy-ci.toml's)."""

    name: str
    description: str
    log_level: str
    registry: str
    ports: Mapping[str, int]
    urls: Mapping[str, str]
    limits: Limits
    env: Mapping[str, str]
    load: LoadConfig = field(default_factory=LoadConfig)

    @property
    def resource_limits(self) -> ResourceLimits | None:
        """What every service process of this environment may use (None: no ``cpus`` and no ``memory_mb``)."""
        limits = ResourceLimits(self.limits.cpus, self.limits.memory_mb)
        return limits if limits.any else None

    @property
    def service_env(self) -> dict[str, str]:
        return {
            "JESSY_LOG_LEVEL": self.log_level,
            "JESSY_MAX_LAYER_BYTES": str(self.limits.max_layer_bytes),
            "JESSY_CORE_TIMEOUT_MS": str(self.limits.core_timeout_ms),
            **self.env,
        }


def parse_environment(text: str, name: str, project: Project, file: str) -> Environment:
    """Parse one environments/<name>.toml; ports and URLs must name services that can be served."""
    data = _toml(text, file)
    root = _Table(data, "", file)
    log_level = root.text("log_level", "info")
    if log_level not in LOG_LEVELS:
        raise root.fail("log_level", f"one of {', '.join(LOG_LEVELS)}", log_level)
    servable = [c.name for c in project.components.values() if c.serve is not None]
    ports_table = root.opt_table("ports") or _Table({}, "ports", file)
    urls_table = root.opt_table("urls") or _Table({}, "urls", file)
    for table in (ports_table, urls_table):
        for service in table.data:
            if service not in servable:
                raise table.fail(service, f"a served component ({', '.join(servable)})", service)
    ports = {service: ports_table.port(service) for service in ports_table.data}
    urls = {service: urls_table.text(service) for service in urls_table.data}
    for service, url in urls.items():
        if not url.startswith(("http://", "https://")):
            raise urls_table.fail(service, "an http(s) URL", url)
    limits = root.opt_table("limits") or _Table({}, "limits", file)
    result = Environment(
        name=name,
        description=root.text("description", name),
        log_level=log_level,
        registry=root.text("registry", project.registry.address or "localhost"),
        ports=ports,
        urls=urls,
        limits=Limits(
            cpus=None if limits.get("cpus") is None else limits.number("cpus", 0, 0.1, 256),
            memory_mb=None if limits.get("memory_mb") is None else limits.whole("memory_mb", 16, 1_048_576),
            max_layer_bytes=limits.whole("max_layer_bytes", 1, 2**40, 16 * 1024 * 1024),
            core_timeout_ms=limits.whole("core_timeout_ms", 1, 600_000, 2000),
        ),
        env=root.env("env"),
        load=_load(root.opt_table("load"), project.components),
    )
    limits.finish(_LIMIT_KEYS)
    root.finish(_ENV_KEYS)
    return result


def environment_names(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / ENVIRONMENTS_DIR).glob("*.toml"))


def load_environment(root: Path, name: str, project: Project) -> Environment:
    """``--env NAME``: environments/NAME.toml; an unknown name lists the known ones."""
    known = environment_names(root)
    if name not in known:
        raise UsageError(f"--env {name!r}: unknown environment; expected one of: {', '.join(known) or '(none)'}")
    file = f"{ENVIRONMENTS_DIR}/{name}.toml"
    try:
        text = (root / file).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{file}: cannot read: {e.strerror}") from None
    return parse_environment(text, name, project, file)
