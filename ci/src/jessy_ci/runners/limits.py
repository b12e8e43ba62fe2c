"""Resource limits of a service process on the host, through Linux cgroups.

Which cgroups: v2 where a cgroup2 file system is mounted under the cgroup root (``/sys/fs/cgroup`` itself, or
``/sys/fs/cgroup/unified`` on a hybrid machine) with the controllers a limit needs (memory, cpu) and jessy-ci may
create cgroups in it; else v1 (``/sys/fs/cgroup/memory``, ``/sys/fs/cgroup/cpu``). Every service start gets a cgroup
of its own, ``<the cgroup jessy-ci runs in>/jessy-ci/<id>-<service>``, in each hierarchy that holds a controller it
needs: a child of jessy-ci's own cgroup, so that a service never leaves the limits jessy-ci itself runs under.

- memory (``memory_mb`` MiB): v2 ``memory.max`` and ``memory.swap.max`` 0; v1 ``memory.limit_in_bytes`` and
  ``memory.memsw.limit_in_bytes`` the same (no swap), where the kernel accounts swap (the file is there);
- cpu (``cpus``): ``cpus`` x 100 ms of CPU time in every 100 ms: v2 ``cpu.max`` ``<quota> <period>``, v1
  ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``.

The service's command runs behind ``sh -c 'echo $$ > <cgroup.procs>…; exec "$@"'``: the process joins its cgroups
before it becomes the service, so nothing of the service ever runs unlimited (and a failed join ends it, exit 125).
When it stops, whatever is left in its cgroups is killed and they are removed (``jessy-ci/`` too, once empty).

Pure where it can be (which file gets which contents, the wrapper, ``/proc/<pid>/cgroup``); the file system work is
in a few methods of ``Machine``, whose cgroup root and ``/proc`` can be folders of a test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from jessy_ci.steps import LIMITS_FOLDER, ResourceLimits

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")
FOLDER = "jessy-ci"  # in jessy-ci's own cgroup: one cgroup per service start
PERIOD_US = 100_000  # the CPU period: cpus x this of CPU time in each
MIN_QUOTA_US = 1_000  # the kernel's smallest quota
MIB = 1024 * 1024
UNLIMITED = 2**62  # v1 says "no limit" with a page-rounded LONG_MAX
V2_MOUNTS = ("", "unified")  # where a cgroup2 file system is found under the root: itself, or unified/ (hybrid)
V1_HIERARCHIES = {"memory": ("memory",), "cpu": ("cpu", "cpu,cpuacct")}
V1_CONTROL_FILE = {"memory": "memory.limit_in_bytes", "cpu": "cpu.cfs_quota_us"}
NOT_ON_DAGGER = "not applied on Dagger: engine-wide limits only"
# The wrapper: joins every cgroup.procs file given before ``--``, then becomes the command after it.
JOIN = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
HINT = "(run as root, or on a machine with cgroups)"


class LimitsUnavailable(Exception):
    """A limit cannot be applied on this machine; the message is one line naming the limit and why."""


@dataclass(frozen=True)
class Wanted:
    """One limit that is set: the controller it needs, its key in ``[limits]`` and its value as written there."""

    controller: Literal["memory", "cpu"]
    key: str
    value: str

    def fail(self, why: str) -> LimitsUnavailable:
        return LimitsUnavailable(f"limits.{self.key} {self.value}: cannot apply: {why}")


def wanted(limits: ResourceLimits) -> tuple[Wanted, ...]:
    """The limits that are set, memory first."""
    return (
        *([Wanted("memory", "memory_mb", str(limits.memory_mb))] if limits.memory_mb is not None else []),
        *([Wanted("cpu", "cpus", f"{limits.cpus:g}")] if limits.cpus is not None else []),
    )


def memory_bytes(memory_mb: int) -> int:
    return memory_mb * MIB


def cpu_quota_us(cpus: float) -> int:
    return max(MIN_QUOTA_US, round(cpus * PERIOD_US))


@dataclass(frozen=True)
class Setting:
    """One cgroup file and what is written into it. ``optional``: written only where the kernel has the file (swap
    accounting); ``limit``: the limit it applies (named when it cannot be written)."""

    controller: Literal["memory", "cpu"]
    file: str
    value: str
    limit: Wanted
    optional: bool = False


def settings(version: Literal[1, 2], limits: ResourceLimits) -> tuple[Setting, ...]:
    """The files of a service's cgroups and their contents, in the order they are written."""
    out: list[Setting] = []
    for want in wanted(limits):
        if want.controller == "memory" and limits.memory_mb is not None:
            size = str(memory_bytes(limits.memory_mb))
            if version == 2:
                out += [
                    Setting("memory", "memory.max", size, want),
                    Setting("memory", "memory.swap.max", "0", want, True),
                ]
            else:  # memory first: memsw may never be below it
                out += [
                    Setting("memory", "memory.limit_in_bytes", size, want),
                    Setting("memory", "memory.memsw.limit_in_bytes", size, want, True),
                ]
        elif want.controller == "cpu" and limits.cpus is not None:
            quota = str(cpu_quota_us(limits.cpus))
            if version == 2:
                out.append(Setting("cpu", "cpu.max", f"{quota} {PERIOD_US}", want))
            else:
                out += [
                    Setting("cpu", "cpu.cfs_period_us", str(PERIOD_US), want),
                    Setting("cpu", "cpu.cfs_quota_us", quota, want),
                ]
    return tuple(out)


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """``/proc/<pid>/cgroup``: controller → the process's cgroup path in that hierarchy; v2's (``0::/path``) under
    the key ``""``."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            out[controller] = path
    return out


def wrap(procs: Sequence[Path], argv: Sequence[str]) -> list[str]:
    """``argv`` behind the wrapper that joins every ``cgroup.procs`` of ``procs`` before it execs."""
    return ["sh", "-c", JOIN, "sh", *(str(p) for p in procs), "--", *argv]


@dataclass(frozen=True)
class Layout:
    """Where a service's cgroups go: ``bases``, controller → the cgroup jessy-ci runs in (in that controller's
    hierarchy); ``mounts``, controller → the hierarchy's root (what paths in ``/proc/<pid>/cgroup`` start from)."""

    version: Literal[1, 2]
    bases: Mapping[str, Path]
    mounts: Mapping[str, Path]

    def key(self, controller: str) -> str:
        """The controller's key in ``/proc/<pid>/cgroup``."""
        return "" if self.version == 2 else controller


@dataclass(frozen=True)
class Group:
    """One service's cgroups: per cgroup folder, its hierarchy's root and the controllers it carries (v2: one
    folder, v1: one per hierarchy)."""

    name: str
    layout: Layout
    dirs: Mapping[Path, tuple[str, ...]]

    @property
    def procs(self) -> tuple[Path, ...]:
        return tuple(d / "cgroup.procs" for d in self.dirs)

    def path(self, folder: Path) -> str:
        """The cgroup path of a folder of the group, as ``/proc/<pid>/cgroup`` shows it."""
        controller = self.dirs[folder][0]
        return "/" + folder.relative_to(self.layout.mounts[controller]).as_posix()


def group_dirs(layout: Layout, name: str) -> dict[Path, tuple[str, ...]]:
    """The cgroup folders of a service start named ``name`` (``<base>/jessy-ci/<name>``), with their controllers."""
    dirs: dict[Path, tuple[str, ...]] = {}
    for controller, base in layout.bases.items():
        folder = base / FOLDER / name
        dirs[folder] = (*dirs.get(folder, ()), controller)
    return dirs


@dataclass(frozen=True)
class Applied:
    """What a service's cgroups held while it ran, read back from them: the cgroup version, the process's cgroup
    path per controller, and the figures (None: no limit there)."""

    version: int
    paths: Mapping[str, str]
    memory_bytes: int | None = None
    swap_bytes: int | None = None
    cpu_quota_us: int | None = None
    cpu_period_us: int | None = None

    @property
    def cpus(self) -> float | None:
        if self.cpu_quota_us is None or not self.cpu_period_us:
            return None
        return self.cpu_quota_us / self.cpu_period_us

    def describe(self) -> str:
        """``512 MiB memory (swap off), 1 CPU (100000/100000 µs), cgroup v1``."""
        parts: list[str] = []
        if self.memory_bytes is not None:
            swap = (
                ""
                if self.swap_bytes is None
                else " (swap off)"
                if self.swap_bytes == 0
                else f" (+{self.swap_bytes} B swap)"
            )
            parts.append(f"{self.memory_bytes / MIB:g} MiB memory{swap}")
        if self.cpus is not None:
            parts.append(f"{self.cpus:g} CPU ({self.cpu_quota_us}/{self.cpu_period_us} µs)")
        return ", ".join([*parts, f"cgroup v{self.version}"])

    def to_json(self) -> dict[str, object]:
        return {
            "cgroup": f"v{self.version}",
            "paths": dict(self.paths),
            "memory_bytes": self.memory_bytes,
            "swap_bytes": self.swap_bytes,
            "cpu_quota_us": self.cpu_quota_us,
            "cpu_period_us": self.cpu_period_us,
            "cpus": self.cpus,
        }


def mismatch(limits: ResourceLimits, applied: Applied) -> str | None:
    """What the cgroups hold other than what was asked, if anything."""
    if limits.memory_mb is not None and applied.memory_bytes != memory_bytes(limits.memory_mb):
        return f"memory limit {applied.memory_bytes} bytes, expected {memory_bytes(limits.memory_mb)}"
    if limits.cpus is not None and applied.cpu_quota_us != cpu_quota_us(limits.cpus):
        return f"CPU quota {applied.cpu_quota_us} µs, expected {cpu_quota_us(limits.cpus)}"
    return None


def document(service: str, limits: ResourceLimits, applied: Applied | None, note: str) -> bytes:
    """``limits/<service>.json``: what was asked, what the cgroups held (None: not applied), and a note."""
    data: dict[str, object] = {
        "service": service,
        "requested": {"cpus": limits.cpus, "memory_mb": limits.memory_mb},
        "applied": None if applied is None else applied.to_json(),
        "note": note,
    }
    return (json.dumps(data, indent=2) + "\n").encode()


def document_path(service: str) -> str:
    """Where a service's limits document is, relative to the step's reports folder."""
    return f"{LIMITS_FOLDER}/{service}.json"


def _number(text: str) -> int | None:
    """A cgroup figure: None for no limit (``max``, v1's huge value)."""
    value = text.strip()
    if value == "max":
        return None
    number = int(value)
    return None if number >= UNLIMITED else number


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@dataclass(frozen=True)
class Machine:
    """This machine's cgroups: the cgroup root and ``/proc`` (both can be a test's folders), how a folder is found
    writable, and how a cgroup is made and removed (mkdir and rmdir: the kernel adds and drops its files; a test's
    fake kernel does it itself)."""

    root: Path = CGROUP_ROOT
    proc: Path = PROC
    writable: Callable[[Path], bool] = field(default=_writable)
    make_dir: Callable[[Path], None] = field(default=Path.mkdir)
    remove_dir: Callable[[Path], None] = field(default=Path.rmdir)
    wait: float = 5.0  # at most this long for a stopped service's cgroup to empty

    # --- where ----------------------------------------------------------------------------------------------------

    def locate(self, limits: ResourceLimits) -> Layout:
        """Where the service cgroups go for these limits: v2 when it can take them, else v1. LimitsUnavailable, one
        line naming the first limit that cannot be applied and why, when neither can."""
        want = wanted(limits)
        own = parse_proc_cgroup(_read(self.proc / "self" / "cgroup"))
        v2 = self._v2(want, own)
        if isinstance(v2, Layout):
            return v2
        bases: dict[str, Path] = {}
        mounts: dict[str, Path] = {}
        for w in want:
            found = self._v1(w, own)
            if isinstance(found, str):
                raise w.fail(v2 if v2 is not None and found.startswith("no cgroup") else found)
            mounts[w.controller], bases[w.controller] = found
        return Layout(1, bases, mounts)

    def _v2(self, want: tuple[Wanted, ...], own: Mapping[str, str]) -> Layout | str | None:
        """The v2 layout, or why v2 cannot take the limits (None: no cgroup2 file system here)."""
        mount = next((self.root / s for s in V2_MOUNTS if (self.root / s / "cgroup.controllers").is_file()), None)
        if mount is None:
            return None
        base = mount / own.get("", "/").lstrip("/")
        if not (base / "cgroup.controllers").is_file():
            base = mount
        available = _read(base / "cgroup.controllers").split()
        for w in want:
            if w.controller not in available:
                return f"the {w.controller} controller is not available in {base} (cgroup v2)"
        enabled = _read(base / "cgroup.subtree_control").split()
        missing = [w.controller for w in want if w.controller not in enabled]
        if missing:
            if not self.writable(base / "cgroup.subtree_control"):
                return f"{base}/cgroup.subtree_control is not writable {HINT}"
            is_root = not (base / "cgroup.type").exists()
            if not is_root and _read(base / "cgroup.procs").split():
                return (
                    f"{base} (cgroup v2) has processes of its own, so it cannot hand the {missing[0]} controller to "
                    "a child cgroup (run jessy-ci in a cgroup delegated to it)"
                )
        if not self.writable(base):
            return f"{base} is not writable {HINT}"
        return Layout(2, {w.controller: base for w in want}, {w.controller: mount for w in want})

    def _v1(self, want: Wanted, own: Mapping[str, str]) -> tuple[Path, Path] | str:
        """(the hierarchy's root, jessy-ci's own cgroup in it) of a v1 controller, or why there is none to use."""
        names = V1_HIERARCHIES[want.controller]
        control = V1_CONTROL_FILE[want.controller]
        mount = next((self.root / n for n in names if (self.root / n / control).is_file()), None)
        if mount is None:
            return f"no cgroup v1 {want.controller} hierarchy at {self.root / names[0]} and no cgroup v2 with it {HINT}"
        base = mount / own.get(want.controller, "/").lstrip("/")
        if not (base / control).is_file():
            base = mount
        if not self.writable(base):
            return f"{base} is not writable {HINT}"
        return mount, base

    # --- a service's cgroups --------------------------------------------------------------------------------------

    def create(self, layout: Layout, name: str, limits: ResourceLimits) -> Group:
        """The service's cgroups, made and set; LimitsUnavailable when a file cannot be written (what was made is
        removed again)."""
        group = Group(name, layout, group_dirs(layout, name))
        try:
            for folder, controllers in group.dirs.items():
                self._make(layout, folder, controllers)
            for setting in settings(layout.version, limits):
                folder = next(d for d, cs in group.dirs.items() if setting.controller in cs)
                target = folder / setting.file
                if setting.optional and not target.exists():
                    continue
                try:
                    target.write_text(setting.value)
                except OSError as e:
                    raise setting.limit.fail(f"writing {setting.value} to {target}: {e.strerror}") from None
        except BaseException:
            self.remove(group)
            raise
        return group

    def _make(self, layout: Layout, folder: Path, controllers: tuple[str, ...]) -> None:
        """``<base>/jessy-ci/<name>``; on v2 with the controllers handed down to it. Another run may remove an
        empty ``jessy-ci/`` between the two mkdirs: then again."""
        for attempt in range(3):
            try:
                if layout.version == 2:
                    self._enable(folder.parent.parent, controllers)
                if not folder.parent.is_dir():
                    with contextlib.suppress(FileExistsError):
                        self.make_dir(folder.parent)
                if layout.version == 2:
                    self._enable(folder.parent, controllers)
                self.make_dir(folder)
                return
            except OSError as e:
                if not isinstance(e, FileNotFoundError) or attempt == 2:
                    raise LimitsUnavailable(f"limits: cannot create the cgroup {folder}: {e.strerror}") from None

    @staticmethod
    def _enable(cgroup: Path, controllers: tuple[str, ...]) -> None:
        """v2: the controllers handed to the children of ``cgroup`` (``+memory +cpu`` into its subtree_control)."""
        control = cgroup / "cgroup.subtree_control"
        missing = [c for c in controllers if c not in _read(control).split()]
        if missing:
            try:
                control.write_text(" ".join(f"+{c}" for c in missing))
            except OSError as e:
                raise LimitsUnavailable(
                    f"limits: cannot enable {', '.join(missing)} in {control}: {e.strerror}"
                ) from None

    def read_back(self, group: Group, pid: int) -> Applied:
        """The limits the process ``pid`` is under, read from the cgroups ``/proc/<pid>/cgroup`` names; OSError or
        ValueError when they cannot be read, LimitsUnavailable when the process is not in the group's cgroups."""
        layout = group.layout
        own = parse_proc_cgroup((self.proc / str(pid) / "cgroup").read_text())
        paths: dict[str, str] = {}
        folders: dict[str, Path] = {}
        for folder, controllers in group.dirs.items():
            for controller in controllers:
                path = own.get(layout.key(controller), "")
                if path != group.path(folder):
                    raise LimitsUnavailable(
                        f"process {pid} is in the {controller} cgroup {path or '(none)'}, not in {group.path(folder)}"
                    )
                paths[controller] = path
                folders[controller] = layout.mounts[controller] / path.lstrip("/")
        figures: dict[str, int | None] = {}
        if "memory" in folders:
            memory = folders["memory"]
            if layout.version == 2:
                figures["memory_bytes"] = _number((memory / "memory.max").read_text())
                swap = memory / "memory.swap.max"
                figures["swap_bytes"] = _number(swap.read_text()) if swap.exists() else None
            else:
                figures["memory_bytes"] = limit = _number((memory / "memory.limit_in_bytes").read_text())
                memsw = memory / "memory.memsw.limit_in_bytes"
                total = _number(memsw.read_text()) if memsw.exists() else None
                figures["swap_bytes"] = None if total is None or limit is None else total - limit
        if "cpu" in folders:
            cpu = folders["cpu"]
            if layout.version == 2:
                quota, period = (cpu / "cpu.max").read_text().split()
                figures["cpu_quota_us"], figures["cpu_period_us"] = _number(quota), _number(period)
            else:
                quota = (cpu / "cpu.cfs_quota_us").read_text().strip()
                figures["cpu_quota_us"] = None if quota == "-1" else _number(quota)
                figures["cpu_period_us"] = _number((cpu / "cpu.cfs_period_us").read_text())
        return Applied(layout.version, paths, **figures)

    def remove(self, group: Group) -> None:
        """Kill whatever is left in the service's cgroups (a process whose ``/proc/<pid>/cgroup`` says it is in
        them), remove them, and ``jessy-ci/`` once it is empty. Blocking (at most ``wait`` seconds): call it from a
        worker thread."""
        deadline = time.monotonic() + self.wait
        for folder, controllers in group.dirs.items():
            key = group.layout.key(controllers[0])
            while folder.exists():
                for pid in self._members(folder, key, group.path(folder)):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    self.remove_dir(folder)
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break  # left behind: still busy after the wait
                    time.sleep(0.05)
            try:  # jessy-ci/: shared by every run, removed once no cgroup is left in it (busy: another run's)
                if not any(p.is_dir() for p in folder.parent.iterdir()):
                    self.remove_dir(folder.parent)
            except OSError:
                pass

    def _members(self, folder: Path, key: str, path: str) -> list[int]:
        """The processes of ``cgroup.procs`` that are really in the cgroup (a file of a test is not the kernel's)."""
        members: list[int] = []
        for word in _read(folder / "cgroup.procs").split():
            if word.isdigit() and parse_proc_cgroup(_read(self.proc / word / "cgroup")).get(key) == path:
                members.append(int(word))
        return members
