"""Resource limits through cgroups, fast: which files get which contents (v1 and v2), where the cgroups go, the
wrapper that joins them before the service execs, the figures read back, the clean-up, and every machine that cannot
apply a limit: one line naming the limit and why, exit 2 from `serve --env` and `load --env` before anything starts.

The cgroup file systems here are folders of the test with a fake kernel (``make_dir`` adds the files a cgroup has);
the real kernel's part is in tests/e2e/test_limits.py."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import anyio
import pytest

from jessy_ci.cli import main
from jessy_ci.runners import ServiceFailed
from jessy_ci.runners import limits as cg
from jessy_ci.runners.host import HostRunner
from jessy_ci.runners.limits import Applied, Layout, LimitsUnavailable, Machine, mismatch, settings, wrap
from jessy_ci.steps import ResourceLimits, ServiceSpec
from tests.conftest import ROOT

LIMITS = ResourceLimits(cpus=0.5, memory_mb=64)
MIB64 = str(64 * 1024 * 1024)
HINT = "(run as root, or on a machine with cgroups)"
V1_UNLIMITED = "9223372036854771712"
# The files of a cgroup in each v1 hierarchy, as a fresh one has them.
V1_FILES = {
    "memory": {"memory.limit_in_bytes": V1_UNLIMITED, "memory.memsw.limit_in_bytes": V1_UNLIMITED},
    "cpu": {"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000"},
}
V2_FILES = {"cgroup.subtree_control": "", "memory.max": "max", "memory.swap.max": "max", "cpu.max": "max 100000"}


def _write(folder: Path, files: Mapping[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def _proc(tmp_path: Path, self_cgroup: str) -> Path:
    proc = tmp_path / "proc"
    _write(proc / "self", {"cgroup": self_cgroup})
    return proc


def v1_machine(
    tmp_path: Path, own_memory: str = "/", swap: bool = True, writable: Callable[[Path], bool] = lambda _: True
) -> Machine:
    """A v1 machine: memory and cpu hierarchies; jessy-ci itself in the memory cgroup ``own_memory``."""
    root = tmp_path / "cgroup"
    files = {c: {**f, "cgroup.procs": ""} for c, f in V1_FILES.items()}
    if not swap:
        del files["memory"]["memory.memsw.limit_in_bytes"]
    for controller, names in files.items():
        _write(root / controller, names)
    _write(root / "memory" / own_memory.lstrip("/"), files["memory"])

    def make_dir(path: Path) -> None:  # the kernel: a new cgroup has its hierarchy's files
        path.mkdir()
        _write(path, files[path.relative_to(root).parts[0]])

    proc = _proc(tmp_path, f"9:name=systemd:/\n4:memory:{own_memory}\n1:cpu:/\n0::/\n")
    return Machine(root, proc, writable=writable, make_dir=make_dir, remove_dir=shutil.rmtree, wait=0.0)


def v2_machine(tmp_path: Path, controllers: str = "cpuset cpu io memory pids", own: str = "/") -> Machine:
    """A cgroup v2 machine (``/sys/fs/cgroup`` itself is cgroup2); jessy-ci runs in ``own``."""
    root = tmp_path / "cgroup"
    _write(root, {"cgroup.controllers": controllers, "cgroup.subtree_control": "", "cgroup.procs": "1\n"})
    if own != "/":
        _write(root / own.lstrip("/"), {"cgroup.controllers": controllers, "cgroup.type": "domain", **V2_FILES})
        (root / own.lstrip("/") / "cgroup.procs").write_text("4242\n")

    def make_dir(path: Path) -> None:
        path.mkdir()
        _write(path, {"cgroup.controllers": controllers, "cgroup.type": "domain", "cgroup.procs": "", **V2_FILES})

    proc = _proc(tmp_path, f"0::{own}\n")
    return Machine(root, proc, make_dir=make_dir, remove_dir=shutil.rmtree, wait=0.0)


def joined(group_procs: tuple[Path, ...], command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(wrap(group_procs, command), capture_output=True, text=True, check=False, timeout=30)


# --- pure: the files, /proc/<pid>/cgroup ------------------------------------------------------------------------


def test_the_files_and_contents_of_each_cgroup_version() -> None:
    v1 = [(s.controller, s.file, s.value, s.optional) for s in settings(1, LIMITS)]
    assert v1 == [
        ("memory", "memory.limit_in_bytes", MIB64, False),
        ("memory", "memory.memsw.limit_in_bytes", MIB64, True),  # swap off, where the kernel accounts swap
        ("cpu", "cpu.cfs_period_us", "100000", False),
        ("cpu", "cpu.cfs_quota_us", "50000", False),
    ]
    v2 = [(s.controller, s.file, s.value, s.optional) for s in settings(2, LIMITS)]
    assert v2 == [
        ("memory", "memory.max", MIB64, False),
        ("memory", "memory.swap.max", "0", True),
        ("cpu", "cpu.max", "50000 100000", False),
    ]
    assert [s.file for s in settings(1, ResourceLimits(cpus=2))] == ["cpu.cfs_period_us", "cpu.cfs_quota_us"]
    assert [s.value for s in settings(2, ResourceLimits(cpus=2))] == ["200000 100000"]
    assert settings(2, ResourceLimits()) == ()


def test_proc_cgroup_lines_by_controller() -> None:
    text = "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/user.slice/s.scope\n"
    assert cg.parse_proc_cgroup(text) == {
        "name=systemd": "/",
        "memory": "/process_api/abc",
        "cpu": "/x",
        "cpuacct": "/x",
        "": "/user.slice/s.scope",
    }


def test_a_mismatch_names_the_figure() -> None:
    applied = Applied(1, {}, memory_bytes=64 * 1024 * 1024, swap_bytes=0, cpu_quota_us=50000, cpu_period_us=100000)
    assert mismatch(LIMITS, applied) is None
    assert mismatch(ResourceLimits(memory_mb=65), applied) == f"memory limit {MIB64} bytes, expected 68157440"
    assert mismatch(ResourceLimits(cpus=1), applied) == "CPU quota 50000 µs, expected 100000"
    assert applied.describe() == "64 MiB memory (swap off), 0.5 CPU (50000/100000 µs), cgroup v1"


# --- v1 ---------------------------------------------------------------------------------------------------------


def test_v1_cgroups_nest_in_jessy_cis_own_join_before_exec_read_back_and_go(tmp_path: Path) -> None:
    machine = v1_machine(tmp_path, own_memory="/process_api/abc")
    root = machine.root
    layout = machine.locate(LIMITS)
    assert layout == Layout(
        1,
        {"memory": root / "memory/process_api/abc", "cpu": root / "cpu"},
        {"memory": root / "memory", "cpu": root / "cpu"},
    )
    group = machine.create(layout, "run1-jessy-core", LIMITS)
    memory = root / "memory/process_api/abc/jessy-ci/run1-jessy-core"
    cpu = root / "cpu/jessy-ci/run1-jessy-core"
    assert group.procs == (memory / "cgroup.procs", cpu / "cgroup.procs")
    assert (memory / "memory.limit_in_bytes").read_text() == MIB64
    assert (memory / "memory.memsw.limit_in_bytes").read_text() == MIB64
    assert (cpu / "cpu.cfs_quota_us").read_text() == "50000"
    assert (cpu / "cpu.cfs_period_us").read_text() == "100000"

    done = joined(group.procs, ["sh", "-c", "echo $$"])  # the command, after exec, is the process that joined
    assert done.returncode == 0, done.stderr
    pid = done.stdout.strip()
    assert (memory / "cgroup.procs").read_text().strip() == (cpu / "cgroup.procs").read_text().strip() == pid

    _write(
        machine.proc / "4242",
        {"cgroup": "4:memory:/process_api/abc/jessy-ci/run1-jessy-core\n1:cpu:/jessy-ci/run1-jessy-core\n"},
    )
    applied = machine.read_back(group, 4242)
    assert applied == Applied(
        1,
        {"memory": "/process_api/abc/jessy-ci/run1-jessy-core", "cpu": "/jessy-ci/run1-jessy-core"},
        memory_bytes=64 * 1024 * 1024,
        swap_bytes=0,
        cpu_quota_us=50000,
        cpu_period_us=100000,
    )
    machine.remove(group)
    assert not (root / "memory/process_api/abc/jessy-ci").exists() and not (root / "cpu/jessy-ci").exists()
    assert (root / "memory/process_api/abc").is_dir(), "jessy-ci's own cgroup stays"


def test_v1_without_swap_accounting_limits_memory_only(tmp_path: Path) -> None:
    machine = v1_machine(tmp_path, swap=False)
    group = machine.create(machine.locate(ResourceLimits(memory_mb=64)), "r-core", ResourceLimits(memory_mb=64))
    assert [d.relative_to(machine.root).as_posix() for d in group.dirs] == ["memory/jessy-ci/r-core"]
    folder = next(iter(group.dirs))
    assert sorted(p.name for p in folder.iterdir()) == ["cgroup.procs", "memory.limit_in_bytes"]
    _write(machine.proc / "7", {"cgroup": "4:memory:/jessy-ci/r-core\n"})
    assert machine.read_back(group, 7).swap_bytes is None
    machine.remove(group)


def test_a_process_outside_the_cgroups_is_not_read_as_limited(tmp_path: Path) -> None:
    machine = v1_machine(tmp_path)
    group = machine.create(machine.locate(LIMITS), "r-api", LIMITS)
    _write(machine.proc / "9", {"cgroup": "4:memory:/\n1:cpu:/\n"})
    with pytest.raises(LimitsUnavailable, match=r"^process 9 is in the memory cgroup /, not in /jessy-ci/r-api$"):
        machine.read_back(group, 9)
    machine.remove(group)


def test_a_failed_join_never_runs_the_command(tmp_path: Path) -> None:
    done = joined((tmp_path / "gone" / "cgroup.procs",), ["sh", "-c", "echo ran"])
    assert done.returncode == 125 and "ran" not in done.stdout


def test_whatever_is_left_in_a_stopped_services_cgroup_is_killed(tmp_path: Path) -> None:
    machine = v1_machine(tmp_path)
    group = machine.create(machine.locate(ResourceLimits(memory_mb=64)), "r-left", ResourceLimits(memory_mb=64))
    straggler = subprocess.Popen(["sleep", "60"])
    try:
        folder = next(iter(group.dirs))
        (folder / "cgroup.procs").write_text(f"{straggler.pid}\n999999999\n")  # the second: no such process
        _write(machine.proc / str(straggler.pid), {"cgroup": "4:memory:/jessy-ci/r-left\n"})
        machine.remove(group)
        assert straggler.wait(timeout=30) == -9
        assert not folder.exists()
    finally:
        straggler.kill()


def test_a_pid_the_kernel_does_not_place_in_the_cgroup_is_left_alone(tmp_path: Path) -> None:
    machine = v1_machine(tmp_path)
    group = machine.create(machine.locate(ResourceLimits(memory_mb=64)), "r-other", ResourceLimits(memory_mb=64))
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        (next(iter(group.dirs)) / "cgroup.procs").write_text(f"{bystander.pid}\n")  # no /proc/<pid>/cgroup says so
        machine.remove(group)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


# --- v2 ---------------------------------------------------------------------------------------------------------


def test_v2_one_cgroup_with_the_controllers_handed_down(tmp_path: Path) -> None:
    machine = v2_machine(tmp_path)
    root = machine.root
    layout = machine.locate(LIMITS)
    assert layout == Layout(2, {"memory": root, "cpu": root}, {"memory": root, "cpu": root})
    group = machine.create(layout, "r-core", LIMITS)
    leaf = root / "jessy-ci" / "r-core"
    assert group.procs == (leaf / "cgroup.procs",)
    assert (root / "cgroup.subtree_control").read_text() == "+memory +cpu"
    assert (root / "jessy-ci" / "cgroup.subtree_control").read_text() == "+memory +cpu"
    assert (leaf / "memory.max").read_text() == MIB64
    assert (leaf / "memory.swap.max").read_text() == "0"
    assert (leaf / "cpu.max").read_text() == "50000 100000"
    _write(machine.proc / "77", {"cgroup": "0::/jessy-ci/r-core\n"})
    applied = machine.read_back(group, 77)
    assert (applied.version, applied.memory_bytes, applied.swap_bytes, applied.cpus) == (2, 64 * 1024 * 1024, 0, 0.5)
    machine.remove(group)
    assert not leaf.exists()


def test_a_cgroup2_without_the_controllers_falls_back_to_v1(tmp_path: Path) -> None:
    machine = v1_machine(tmp_path)
    _write(machine.root / "unified", {"cgroup.controllers": "hugetlb", "cgroup.subtree_control": ""})  # as here
    assert machine.locate(LIMITS).version == 1


def test_v2_in_a_cgroup_that_has_processes_cannot_hand_controllers_down(tmp_path: Path) -> None:
    machine = v2_machine(tmp_path, own="/user.slice/session-1.scope")
    own = machine.root / "user.slice/session-1.scope"
    with pytest.raises(LimitsUnavailable) as raised:
        machine.locate(LIMITS)
    assert str(raised.value) == (
        f"limits.memory_mb 64: cannot apply: {own} (cgroup v2) has processes of its own, so it cannot hand the "
        "memory controller to a child cgroup (run jessy-ci in a cgroup delegated to it)"
    )


def test_v2_without_the_memory_controller_and_no_v1_names_it(tmp_path: Path) -> None:
    machine = v2_machine(tmp_path, controllers="cpu pids")
    assert machine.locate(ResourceLimits(cpus=1)).version == 2
    with pytest.raises(LimitsUnavailable) as raised:
        machine.locate(LIMITS)
    assert str(raised.value) == (
        f"limits.memory_mb 64: cannot apply: the memory controller is not available in {machine.root} (cgroup v2)"
    )


# --- machines that cannot apply a limit ----------------------------------------------------------------------------


def test_no_cgroups_at_all_names_the_limit_and_why(tmp_path: Path) -> None:
    machine = Machine(tmp_path / "none", _proc(tmp_path, ""))
    with pytest.raises(LimitsUnavailable) as raised:
        machine.locate(ResourceLimits(cpus=1, memory_mb=512))
    assert str(raised.value) == (
        f"limits.memory_mb 512: cannot apply: no cgroup v1 memory hierarchy at {tmp_path}/none/memory and no cgroup "
        f"v2 with it {HINT}"
    )
    with pytest.raises(LimitsUnavailable, match=r"^limits\.cpus 1: cannot apply: no cgroup v1 cpu hierarchy"):
        machine.locate(ResourceLimits(cpus=1))


def test_a_read_only_cgroup_fs_names_the_folder(tmp_path: Path) -> None:
    machine = v1_machine(tmp_path, writable=lambda _: False)
    with pytest.raises(LimitsUnavailable) as raised:
        machine.locate(ResourceLimits(cpus=1, memory_mb=512))
    assert str(raised.value) == f"limits.memory_mb 512: cannot apply: {machine.root}/memory is not writable {HINT}"


def test_the_host_runner_starts_nothing_when_a_limit_cannot_be_applied(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    spec = ServiceSpec(
        name="demo",
        component="demo",
        image="python:3.11-slim-bookworm",
        workdir=".",
        setup=(),
        command=(sys.executable, "-c", f"open({str(marker)!r}, 'w')"),
        port=0,
        port_env="PORT",
        health="/",
        url_env="DEMO_URL",
        limits=ResourceLimits(memory_mb=64),
    )
    runner = HostRunner(tmp_path, echo=lambda _: None, cgroups=Machine(tmp_path / "none", _proc(tmp_path, "")))

    async def start() -> None:
        async with runner.services((spec,), tmp_path, tmp_path / "reports"):
            pass

    with pytest.raises(ServiceFailed) as raised:
        anyio.run(start)
    assert str(raised.value).startswith("service demo: limits.memory_mb 64: cannot apply: no cgroup v1 memory")
    assert not marker.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--env", "staging", "--core-port", "0", "--api-port", "0"],
        ["load", "--env", "staging", "--runner", "host", "--rate", "20", "--duration", "2"],
    ],
)
def test_serve_and_load_with_an_environment_exit_2_before_anything_starts(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = functools.partial(Machine, tmp_path / "none", _proc(tmp_path, ""))
    monkeypatch.setattr(cg, "Machine", nowhere)
    monkeypatch.chdir(ROOT)
    assert main([*args, "--reports", str(tmp_path / "reports")]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"jessy-ci: error: --env staging: limits.memory_mb 512: cannot apply: no cgroup v1 memory hierarchy at "
        f"{tmp_path}/none/memory and no cgroup v2 with it {HINT}"
    ]
    assert not (tmp_path / "reports").exists(), "nothing ran"
