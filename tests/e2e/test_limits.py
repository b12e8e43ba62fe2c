"""End to end: an environment's resource limits in force on the real services, by the kernel's own figures.

jessy-core started by the host runner under 64 MB and half a CPU: the running process's /proc/<pid>/cgroup names its
cgroups, and their files hold the limits; `jessy-ci load --env staging --runner host` records the limits read back
from every service's cgroups in result.json. Where this machine cannot create cgroups, both skip with the reason."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from jessy_ci import config
from jessy_ci.runners.host import HostRunner, http_status
from jessy_ci.runners.limits import LimitsUnavailable, Machine
from jessy_ci.steps import ResourceLimits
from jessy_ci.verbs.plan import serve_specs
from tests.conftest import ROOT
from tests.e2e.test_host import jessy_ci

pytestmark = pytest.mark.slow

CGROUPS = Path("/sys/fs/cgroup")
MIB = 1024 * 1024
STAGING = ResourceLimits(cpus=1, memory_mb=512)


def needs_cgroups(limits: ResourceLimits) -> None:
    """Skip, with the one-line reason, where this machine cannot apply the limits."""
    try:
        Machine().locate(limits)
    except LimitsUnavailable as e:
        pytest.skip(f"this machine cannot create cgroups: {e}")


def cgroups_of(pid: int) -> dict[str, Path]:
    """The folders of the process's memory and cpu cgroups, from its own /proc/<pid>/cgroup (v1 where it is in a
    jessy-ci cgroup of the v1 hierarchy, else v2)."""
    folders: dict[str, Path] = {}
    unified: Path | None = None
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller in ("memory", "cpu") and "/jessy-ci/" in path:
                folders[controller] = CGROUPS / controller / path.lstrip("/")
        if not controllers and "/jessy-ci/" in path:
            mount = CGROUPS if (CGROUPS / "cgroup.controllers").exists() else CGROUPS / "unified"
            unified = mount / path.lstrip("/")
    if not folders and unified is not None:
        folders = {"memory": unified, "cpu": unified}
    return folders


def memory_limit(folder: Path) -> int:
    v1 = folder / "memory.limit_in_bytes"
    return int((v1 if v1.exists() else folder / "memory.max").read_text())


def cpu_quota(folder: Path) -> tuple[int, int]:
    """(quota, period) in µs."""
    v1 = folder / "cpu.cfs_quota_us"
    if v1.exists():
        return int(v1.read_text()), int((folder / "cpu.cfs_period_us").read_text())
    quota, period = (folder / "cpu.max").read_text().split()
    return int(quota), int(period)


def test_jessy_core_runs_under_its_memory_and_cpu_limits(project: config.Project, tmp_path: Path) -> None:
    limits = ResourceLimits(cpus=0.5, memory_mb=64)
    needs_cgroups(limits)
    core = replace(serve_specs(project)[0], limits=limits)
    assert core.name == "jessy-core"
    lines: list[str] = []
    seen: dict[str, Path] = {}
    data, reports = tmp_path / "data", tmp_path / "reports"
    data.mkdir()

    async def run() -> None:
        runner = HostRunner(ROOT, echo=lines.append)
        async with runner.services((core,), data, reports) as urls:
            port = int(urls["jessy-core"].rsplit(":", 1)[1])
            assert await http_status(port, core.health) == 200
            found = next(m for line in lines if (m := re.match(r"\[jessy-core\] started \(pid (\d+)\)", line)))
            await anyio.to_thread.run_sync(check, int(found.group(1)))

    def check(pid: int) -> None:
        """While it runs: the service process's own cgroups hold the limits."""
        assert Path(f"/proc/{pid}/comm").read_text().strip() == "jessy-core", "the service process itself"
        seen.update(cgroups_of(pid))
        assert set(seen) == {"memory", "cpu"}, Path(f"/proc/{pid}/cgroup").read_text()
        assert memory_limit(seen["memory"]) == 64 * MIB
        assert cpu_quota(seen["cpu"]) == (50_000, 100_000)
        assert str(pid) in (seen["memory"] / "cgroup.procs").read_text().split()

    anyio.run(run)
    recorded = json.loads((reports / "limits" / "jessy-core.json").read_text())
    assert recorded["applied"]["memory_bytes"] == 64 * MIB and recorded["applied"]["cpu_quota_us"] == 50_000
    assert any(line.startswith("[jessy-core] limits: 64 MiB memory") for line in lines), lines
    assert not any(folder.exists() for folder in seen.values()), "the cgroups go with the service"


def test_a_load_run_under_the_staging_limits_records_them_read_back(tmp_path: Path) -> None:
    needs_cgroups(STAGING)
    reports = tmp_path / "reports"
    args = ("--env", "staging", "--rate", "20", "--duration", "2", "--runner", "host", "--reports", str(reports))
    done = jessy_ci("load", *args, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads((reports / "load" / "result.json").read_text())
    services = {"jessy-core", *result["instances"]}
    assert set(result["limits"]) == services and len(services) >= 2
    for name, item in result["limits"].items():
        assert item["requested"] == {"cpus": 1.0, "memory_mb": 512}, name
        applied = item["applied"]
        assert applied is not None, item["note"]
        assert applied["memory_bytes"] == 512 * MIB, name
        assert (applied["cpu_quota_us"], applied["cpu_period_us"]) == (100_000, 100_000), name
        assert applied["swap_bytes"] in (0, None), name
        assert all(path.endswith(f"-{name}") and "/jessy-ci/" in path for path in applied["paths"].values()), name
    load_md = (reports / "load" / "load.md").read_text()
    assert "| jessy-core | 1 CPU, 512 MB | 512 MiB" in load_md
    summary = (reports / "summary.md").read_text()
    assert "limits: 1 CPU, 512 MB per service, applied through cgroup v" in summary
    assert "[jessy-core] limits: 512 MiB memory" in done.stdout
