"""Go steps. GOMODCACHE and GOCACHE are cache volumes; `go test -json` output becomes JUnit."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from jessy_ci.config import Component, Service, TestKind
from jessy_ci.steps import RELEASE_SIZE_FILE, REPORTS_PLACEHOLDER, Cache, JunitSource, ServiceSpec, Step
from jessy_ci.toolchains import VERSION_FILE, BenchSettings, component_step, service_spec

GO_VERSION = "1.26"
IMAGE = f"golang:{GO_VERSION}-bookworm"
CACHES = (
    Cache("go-mod", "/go/pkg/mod", env="GOMODCACHE"),
    Cache(f"go-build-{GO_VERSION}", "/root/.cache/go-build", env="GOCACHE"),
)
INTEGRATION_TAG = "integration"
SERVICE_BINARY = "bin/service"
COVERAGE_FILE = "coverage.out"  # the coverprofile, in {reports}
MODULE_FILE = "go-module"  # the module path (`go list -m`), to map the coverprofile's import paths to files
_TEST_SELECTION: dict[str, tuple[str, ...]] = {
    "unit": (),
    # Integration tests live behind the build tag and are named TestIntegration*; the tag also compiles the
    # unit tests, so the name filter keeps each test counted once.
    "integration": ("-tags", INTEGRATION_TAG, "-run", "^TestIntegration"),
}


@dataclass(frozen=True)
class Go:
    name: str = "go"

    def _step(self, c: Component, kind: str, command: tuple[str, ...]) -> Step:
        return component_step(
            c,
            kind,
            toolchain=self.name,
            image=IMAGE,
            command=command,
            caches=CACHES,
            manifests=(f"{c.path}/go.mod", f"{c.path}/go.sum"),
            setup=(("go", "mod", "download"),),
        )

    def lint(self, component: Component) -> list[Step]:
        return [
            replace(self._step(component, "gofmt", ("gofmt", "-l", ".")), fail_on_output=True, setup=()),
            self._step(component, "vet", ("go", "vet", "-tags", INTEGRATION_TAG, "./...")),
        ]

    def test(self, component: Component, kind: TestKind, services: tuple[ServiceSpec, ...]) -> Step:
        selection = _TEST_SELECTION.get(kind)
        if selection is None:
            raise ValueError(f"go has no {kind} tests")
        command = ("go", "test", "-race", "-count=1", "-json", *selection, "./...")
        return replace(self._step(component, kind, command), services=services, junit=JunitSource.GO_TEST_JSON)

    def release(self, component: Component) -> Step:
        """The release binary as the Dockerfile builds it (static, stripped), natively; its size in bytes goes to
        ``{reports}/size``."""
        binary = f"bin/{component.name}"
        script = (
            f"go build -trimpath -ldflags '-s -w' -o {binary} . "
            f"&& wc -c < {binary} > {REPORTS_PLACEHOLDER}/{RELEASE_SIZE_FILE}"
        )
        step = self._step(component, "release", ("sh", "-c", script))
        return replace(step, env={**step.env, "CGO_ENABLED": "0"})

    def coverage(self, component: Component, services: tuple[ServiceSpec, ...]) -> Step:
        """Unit and (with the tag and the services bound) integration tests in one run, every package of the module
        instrumented (``-coverpkg``) so that tests of one package cover the others; the module path goes beside the
        coverprofile."""
        integration = "integration" in component.tests
        go_test = (
            "go",
            "test",
            "-count=1",
            "-json",
            *(("-tags", INTEGRATION_TAG) if integration else ()),
            "-coverpkg=./...",
            f"-coverprofile={REPORTS_PLACEHOLDER}/{COVERAGE_FILE}",
            "./...",
        )
        script = f"go list -m > {REPORTS_PLACEHOLDER}/{MODULE_FILE} && exec {shlex.join(go_test)}"
        step = self._step(component, "coverage", ("sh", "-c", script))
        return replace(step, services=services if integration else (), junit=JunitSource.GO_TEST_JSON)

    def bench(self, component: Component, settings: BenchSettings) -> Step:
        """``go test -bench`` with allocations, ``count`` runs of each benchmark sharing ``seconds``; no tests run.
        The Go version goes beside the output."""
        go_test = (
            "go",
            "test",
            "-run",
            "^$",
            "-bench",
            settings.filter or ".",
            "-benchmem",
            f"-count={settings.count}",
            f"-benchtime={settings.seconds / settings.count:.4g}s",
            "./...",
        )
        script = f"go version > {REPORTS_PLACEHOLDER}/{VERSION_FILE} && exec {shlex.join(go_test)}"
        return self._step(component, "bench", ("sh", "-c", script))

    def service(self, service: Service, component: Component) -> ServiceSpec:
        command = (f"./{SERVICE_BINARY}",)
        return service_spec(
            service,
            component,
            image=IMAGE,
            build=("go", "build", "-o", SERVICE_BINARY, "."),
            command=command,
            caches=CACHES,
        )


GO = Go()
