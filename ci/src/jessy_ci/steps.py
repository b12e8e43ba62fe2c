"""A Step is plain frozen data: what to run, where, with which caches, services and secrets.

Toolchains build Steps; runners execute them; nothing else knows a command line. In commands and env values the
placeholder ``{reports}`` stands for a folder the runner provides for the step's report files; every file the step
leaves there comes back in its RunResult.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

REPORTS_PLACEHOLDER = "{reports}"
CUCUMBER_FILE = "cucumber.json"  # a BDD step's features, scenarios and steps (pytest-bdd's --cucumberjson)
RELEASE_SIZE_FILE = "size"  # a release-build step writes its binary's size in bytes there
# A runner that starts a service with ResourceLimits leaves ``limits/<service>.json`` among the step's report files:
# what was asked, what the service's cgroups held while it ran (None where the runner cannot limit), and a note.
LIMITS_FOLDER = "limits"

Argv = tuple[str, ...]


@dataclass(frozen=True)
class Cache:
    """A cache volume. ``env``: variable that points the tool at ``path`` (and, on the host, at a local folder).

    A cache without ``env`` is only mounted on the Dagger runner; the host's tool uses its own cache there.
    ``locked``: one writer at a time on the Dagger runner (LOCKED sharing), for caches a tool cannot share.
    ``containers_only``: the host runner ignores this cache altogether (its tool keeps its own home and settings).
    ``per_checkout``: on the host, kept with the checkout (a cargo target dir: two checkouts of one crate must not
    share it); every other cache is the user's, shared by all clones (tools compiled once, not once per clone).
    ``fresh_in_containers``: the Dagger runner mounts no volume: ``path`` is the container's own folder, made anew in
    every container (a Python environment, rebuilt from the package cache so that nothing stale survives), while the
    host keeps it like any other cache.
    """

    name: str
    path: str
    env: str | None = None
    locked: bool = False
    containers_only: bool = False
    per_checkout: bool = False
    fresh_in_containers: bool = False


@dataclass(frozen=True)
class ResourceLimits:
    """What one service process may use: ``cpus`` (cores' worth of CPU time, 0.5 is half of one) and
    ``memory_mb`` (MiB of memory, swap included); None: not limited."""

    cpus: float | None = None
    memory_mb: int | None = None

    @property
    def any(self) -> bool:
        return self.cpus is not None or self.memory_mb is not None

    def describe(self) -> str:
        """``1 CPU, 512 MB`` (what is limited)."""
        parts = [
            *([f"{self.cpus:g} CPU"] if self.cpus is not None else []),
            *([f"{self.memory_mb} MB"] if self.memory_mb is not None else []),
        ]
        return ", ".join(parts) or "no limits"


class JunitSource(Enum):
    """How a step's test results become JUnit XML."""

    NONE = "none"
    CARGO_TEST = "cargo-test"  # libtest's plain output on stdout
    GO_TEST_JSON = "go-test-json"  # `go test -json` events on stdout
    FILE = "file"  # the tool writes {reports}/junit.xml itself


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service instance: built by ``setup`` in ``workdir``, started with ``command``.

    ``init``: commands run after the build and before the start, with ``data_env`` pointing at the (fresh) data
    volume, to initialise it (``jessy-core init-volume``).
    ``reports``: its command writes files under ``{reports}`` (a resource sampler); they come back with the report
    files of the step that started it (host: the step's own folder; Dagger: a volume shared with the step).
    ``limits``: what its process may use (an environment's ``[limits]``); None: not limited. The host runner applies
    them through cgroups; Dagger cannot limit one container (its runner records that, and changes nothing).
    """

    name: str
    component: str
    image: str
    workdir: str
    setup: tuple[Argv, ...]
    command: Argv
    port: int
    port_env: str
    health: str
    url_env: str
    env: Mapping[str, str] = field(default_factory=dict[str, str])
    caches: tuple[Cache, ...] = ()
    data_env: str | None = None
    needs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    bind_env: str | None = None
    health_status: int = 200
    init: tuple[Argv, ...] = ()
    reports: bool = False
    limits: ResourceLimits | None = None

    def init_arguments(self) -> tuple[Argv, ...]:
        """The ``init`` commands without the service's own command: what its image's entrypoint takes."""
        return tuple(argv[len(self.command) :] for argv in self.init)


@dataclass(frozen=True)
class Step:
    """One unit of work of a verb for one component.

    - ``manifests``: files copied (and ``setup`` run) before the rest of the sources, so that the dependency
      layer stays cached while sources change.
    - ``sources``: repository paths the step needs (relative to the repo root).
    - ``fail_on_output``: the command succeeds only when it also prints nothing (``gofmt -l``).
    - ``secrets``: env variable name → secret name; values are handed to the runner, never stored here.
    - ``inputs``: env variable name → the name of a folder the runner was given (a prepared Trivy DB): the Dagger
      runner mounts it and points the variable at it, the host runner points the variable at the local folder.
    - ``bound``: names of running services the (Dagger) runner was given, reachable from the step under them.
    """

    name: str
    component: str
    kind: str
    toolchain: str
    image: str
    workdir: str
    command: Argv
    sources: tuple[str, ...]
    manifests: tuple[str, ...] = ()
    setup: tuple[Argv, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict[str, str])
    caches: tuple[Cache, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    data_env: str | None = None
    secrets: Mapping[str, str] = field(default_factory=dict[str, str])
    inputs: Mapping[str, str] = field(default_factory=dict[str, str])
    bound: tuple[str, ...] = ()
    junit: JunitSource = JunitSource.NONE
    fail_on_output: bool = False


@dataclass(frozen=True)
class Proxy:
    """A forwarding container in front of several services (Dagger: one Service carries one container's ports).

    It binds each service of ``needs`` under its own name, listens on every port of ``ports`` and runs ``command``,
    which forwards each of them to its service.
    """

    image: str
    setup: tuple[Argv, ...]
    command: Argv
    ports: tuple[int, ...]
    needs: tuple[str, ...]


@dataclass(frozen=True)
class Probe:
    """A tool run inside a production image while its service runs (a static busybox in a distroless image).

    The runner mounts ``binary`` of ``image`` read-only at ``mount`` in the service's image, run as production runs
    it, and executes ``argv`` followed by the data directory (empty: none), the directories to try, ``--`` and the
    image's entrypoint; the output is the tool's to define.
    """

    image: str
    binary: str
    mount: str
    argv: Argv


@dataclass(frozen=True)
class BenchSettings:
    """How benchmarks run: ``count`` samples of each (Go ``-count``; criterion ``--sample-size``, at least 10),
    ``seconds`` of measurement per benchmark, ``filter`` a regular expression of benchmark names (empty: all)."""

    count: int = 10
    seconds: float = 2.0
    filter: str = ""


# Every load run is bounded: in time, in rate, in requests (rate x duration) and in instances.
MAX_LOAD_SECONDS = 300.0
MAX_LOAD_RATE = 1000
MAX_LOAD_REQUESTS = 50_000
MAX_LOAD_INSTANCES = 8
MAX_LOAD_CONCURRENCY = 1000
MAX_SEED_LAYERS = 1000
MAX_LOAD_LAYER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LoadMix:
    """The share of each scenario, as weights: reads of seeded layers, writes of small layers, health calls."""

    read: int = 70
    write: int = 20
    health: int = 10


@dataclass(frozen=True)
class LoadSettings:
    """How a load run drives ``target`` (a served component): ``instances`` of it share one of everything it needs
    and one fresh layer volume; ``rate`` requests/s for ``seconds``, at most ``concurrency`` in flight, spread over
    the instances in the proportions of ``mix``; ``seed_layers`` layers of ``layer_bytes`` bytes are written before
    the run for the reads (the writes send bodies of the same size); every service's resources are sampled every
    ``sample_seconds``. Paths: the layers under ``layers_path``, the health call is the service's health path."""

    target: str = "jessy-api"
    instances: int = 2
    rate: int = 50
    seconds: float = 10.0
    concurrency: int = 10
    mix: LoadMix = field(default_factory=LoadMix)
    seed_layers: int = 20
    layer_bytes: int = 1024
    layers_path: str = "/api/layers"
    sample_seconds: float = 0.5

    @property
    def requests(self) -> int:
        """How many requests the run sends at most (rate x duration)."""
        return round(self.rate * self.seconds)
