"""Rust (cargo) steps. The official image sets CARGO_HOME=/usr/local/cargo; its registry and git db are cached,
and the target dir is a cache keyed by the toolchain version so a toolchain bump never reuses stale artifacts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from jessy_ci.config import Component, Service, TestKind
from jessy_ci.steps import RELEASE_SIZE_FILE, REPORTS_PLACEHOLDER, Cache, JunitSource, ServiceSpec, Step
from jessy_ci.toolchains import volume_init as _volume_init

RUST_VERSION = "1.95"
IMAGE = f"rust:{RUST_VERSION}-bookworm"
TARGET_DIR = "/cache/cargo-target"
CACHES = (
    Cache("cargo-registry", "/usr/local/cargo/registry"),
    Cache("cargo-git", "/usr/local/cargo/git"),
    Cache(f"cargo-target-rust-{RUST_VERSION}", TARGET_DIR, env="CARGO_TARGET_DIR"),
)
_DENY_WARNINGS = ("--", "-D", "warnings")
_TEST_SELECTION: dict[str, tuple[str, ...]] = {
    "unit": ("--lib", "--bins"),
    "integration": ("--test", "*"),
}


def _manifests(c: Component) -> tuple[str, ...]:
    return (f"{c.path}/Cargo.toml", f"{c.path}/Cargo.lock")


@dataclass(frozen=True)
class Rust:
    name: str = "rust"

    def _step(self, c: Component, kind: str, command: tuple[str, ...]) -> Step:
        return Step(
            name=f"{c.name}:{kind}",
            component=c.name,
            kind=kind,
            toolchain=self.name,
            image=IMAGE,
            workdir=c.path,
            command=command,
            sources=(c.path,),
            manifests=_manifests(c),
            setup=(("cargo", "fetch", "--locked"),),
            env=dict(c.env),
            caches=CACHES,
            data_env=c.data_env,
        )

    def lint(self, component: Component) -> list[Step]:
        return [
            replace(
                self._step(component, "fmt", ("cargo", "fmt", "--all", "--check")),
                setup=(("rustup", "component", "add", "rustfmt"),),
                manifests=(),
            ),
            replace(
                self._step(component, "clippy", ("cargo", "clippy", "--locked", "--all-targets", *_DENY_WARNINGS)),
                setup=(("rustup", "component", "add", "clippy"), ("cargo", "fetch", "--locked")),
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

    def service(self, service: Service, component: Component) -> ServiceSpec:
        binary = component.name
        command = (f"${{CARGO_TARGET_DIR}}/debug/{binary}",)
        return ServiceSpec(
            name=service.name,
            component=component.name,
            image=IMAGE,
            workdir=component.path,
            sources=(component.path,),
            setup=(("cargo", "build", "--locked", "--bin", binary),),
            command=command,
            port=service.port,
            port_env=service.port_env,
            health=service.health,
            url_env=service.url_env,
            env=dict(service.env),
            caches=CACHES,
            data_env=component.data_env,
            needs=service.needs,
            bind_env=service.bind_env,
            health_status=service.health_status,
            init=_volume_init(service, command),
        )


RUST = Rust()
