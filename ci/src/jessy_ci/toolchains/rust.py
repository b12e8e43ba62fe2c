"""Rust (cargo) steps. In containers CARGO_HOME is a cache volume: the registry, the git db and cargo's own
package-cache lock live together there, so concurrent steps that download the same crates take turns on that lock
(with only registry/ shared, two containers unpacked one crate at once: "File exists" on the engine). The host keeps
its own CARGO_HOME. The target dir is a cache keyed by the toolchain version so a toolchain bump never reuses stale
artifacts."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from jessy_ci.config import Component, Service, TestKind
from jessy_ci.steps import RELEASE_SIZE_FILE, REPORTS_PLACEHOLDER, Cache, JunitSource, ServiceSpec, Step
from jessy_ci.toolchains import VERSION_FILE, BenchSettings, component_step, service_spec

RUST_VERSION = "1.95"
IMAGE = f"rust:{RUST_VERSION}-bookworm"
TARGET_DIR = "/cache/cargo-target"
CACHES = (
    Cache("cargo-home", "/cache/cargo-home", env="CARGO_HOME", containers_only=True),
    Cache(f"cargo-target-rust-{RUST_VERSION}", TARGET_DIR, env="CARGO_TARGET_DIR", per_checkout=True),
)
# Cargo subcommands installed by steps (cargo-tarpaulin) live in a cache, keyed by the toolchain
# version like the target dir; `cargo install` of a pinned version that is already there is a no-op.
TOOLS = Cache(f"cargo-tools-rust-{RUST_VERSION}", "/cache/cargo-tools", env="CARGO_INSTALL_ROOT")
TARPAULIN_VERSION = "0.37.5"
COVERAGE_FILE = "lcov.info"  # the coverage step's lcov tracefile, in {reports}
CRITERION_DIR = "criterion"  # CRITERION_HOME of the bench step, in {reports}
_CLEAN_WORKSPACE = ("cargo", "clean", "--release", "--workspace")
_DENY_WARNINGS = ("--", "-D", "warnings")
_TEST_SELECTION: dict[str, tuple[str, ...]] = {
    "unit": ("--lib", "--bins"),
    "integration": ("--test", "*"),
}


@dataclass(frozen=True)
class Rust:
    name: str = "rust"

    def _step(self, c: Component, kind: str, command: tuple[str, ...]) -> Step:
        return component_step(c, kind, toolchain=self.name, image=IMAGE, command=command, caches=CACHES)

    def lint(self, component: Component) -> list[Step]:
        return [
            replace(
                self._step(component, "fmt", ("cargo", "fmt", "--all", "--check")),
                setup=(("rustup", "component", "add", "rustfmt"),),
            ),
            replace(
                self._step(component, "clippy", ("cargo", "clippy", "--locked", "--all-targets", *_DENY_WARNINGS)),
                setup=(("rustup", "component", "add", "clippy"),),
            ),
        ]

    def test(self, component: Component, kind: TestKind, services: tuple[ServiceSpec, ...]) -> Step:
        selection = _TEST_SELECTION.get(kind)
        if selection is None:
            raise ValueError(f"rust has no {kind} tests")
        command = ("cargo", "test", "--locked", "--no-fail-fast", *selection)
        return replace(self._step(component, kind, command), services=services, junit=JunitSource.CARGO_TEST)

    def release(self, component: Component) -> Step:
        """The release binary, built natively; its size in bytes goes to ``{reports}/size``."""
        binary = f"${{CARGO_TARGET_DIR}}/release/{component.name}"
        script = (
            f"cargo build --release --locked --bin {component.name} "
            f"&& wc -c < {binary} > {REPORTS_PLACEHOLDER}/{RELEASE_SIZE_FILE}"
        )
        return replace(self._step(component, "release", ("sh", "-c", script)), setup=())

    def coverage(self, component: Component) -> Step:
        """Line coverage of the unit and integration tests (binaries the tests start included) as lcov, with
        cargo-tarpaulin's LLVM engine (``-C instrument-coverage`` and its own profile reader). It needs no
        ``llvm-tools`` rustup component, which neither this machine nor the engine's stand-in rust image has, so the
        host and the containers run the same tool. Installed into the tools cache on first use (a compile of some
        minutes), then reused."""
        targets = () if "integration" in component.tests else _TEST_SELECTION["unit"]
        setup = (_install("cargo-tarpaulin", TARPAULIN_VERSION),)
        command = (
            "cargo",
            "tarpaulin",
            "--locked",
            "--engine",
            "llvm",
            "--skip-clean",
            "--target-dir",
            "${CARGO_TARGET_DIR}/tarpaulin",
            "--out",
            "Lcov",
            "--output-dir",
            REPORTS_PLACEHOLDER,
            *targets,
        )
        step = self._step(component, "coverage", command)
        return replace(
            step,
            setup=setup,
            caches=(*step.caches, TOOLS),
            env={**step.env, "PATH": f"${{{TOOLS.env}}}/bin:${{PATH}}"},
            junit=JunitSource.CARGO_TEST,
        )

    def bench(self, component: Component, settings: BenchSettings) -> Step:
        """Every criterion bench target (``--bench '*'``, so the lib's libtest harness never sees criterion's
        flags), its files under ``{reports}/criterion`` (with criterion's own HTML report and its SVG plots: the
        ``html_reports`` and ``plotters`` features); the rustc version goes beside them.

        The workspace's own release artifacts are cleaned first (dependencies stay): two source trees (a baseline
        worktree, the current tree) share the target cache under the same artifact names, and cargo's mtime check
        could otherwise take one tree's build for the other's."""
        criterion = (
            "--warm-up-time",
            f"{settings.seconds / 2:.4g}",
            "--measurement-time",
            f"{settings.seconds:.4g}",
            "--sample-size",
            str(max(settings.count, 10)),  # criterion's minimum
            *((settings.filter,) if settings.filter else ()),
        )
        cargo = ("cargo", "bench", "--locked", "--bench", "*", "--", *criterion)
        script = (
            f"rustc --version > {REPORTS_PLACEHOLDER}/{VERSION_FILE} && {shlex.join(_CLEAN_WORKSPACE)} "
            f"&& exec {shlex.join(cargo)}"
        )
        step = self._step(component, "bench", ("sh", "-c", script))
        return replace(step, env={**step.env, "CRITERION_HOME": f"{REPORTS_PLACEHOLDER}/{CRITERION_DIR}"})

    def service(self, service: Service, component: Component) -> ServiceSpec:
        binary = component.name
        command = (f"${{CARGO_TARGET_DIR}}/debug/{binary}",)
        return service_spec(
            service,
            component,
            image=IMAGE,
            build=("cargo", "build", "--locked", "--bin", binary),
            command=command,
            caches=CACHES,
        )


def _install(crate: str, version: str) -> tuple[str, ...]:
    """Into the tools cache, built in its own target dir: the shared one stays free for the other steps."""
    return ("cargo", "install", crate, "--version", version, "--locked", "--target-dir", f"${{{TOOLS.env}}}/build")


RUST = Rust()
