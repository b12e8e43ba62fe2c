"""Measure what jessy-ci's host runner adds on top of the tools it runs.

Runs, in one go and with warm caches: ``jessy-ci test --runner host`` and the very same tool commands directly (taken
from the same plan, so they cannot drift: same commands, env, caches and services, the same steps concurrently, with
services started by plain subprocesses). Prints both wall times (median of --runs) and their ratio; the target is
<= 1.03. Also times ``jessy-ci --help`` (target <= 0.3 s).

    .venv/bin/python scripts/bench_overhead.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from jessy_ci import config
from jessy_ci.runners.host import expand, user_caches
from jessy_ci.steps import REPORTS_PLACEHOLDER, Cache, ServiceSpec, Step
from jessy_ci.verbs.plan import plan_test

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".jessy-ci" / "cache"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(step_env: dict[str, str], caches: tuple[Cache, ...], reports: str) -> dict[str, str]:
    """The env the host runner gives a step: the same cache folders (the checkout's or the user's)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for cache in caches:
        if cache.env and not cache.containers_only:
            env[cache.env] = str((CACHE if cache.per_checkout else user_caches()) / cache.name)
    for key, value in step_env.items():
        env[key] = expand(value.replace(REPORTS_PLACEHOLDER, reports), env)
    return env


def argv(command: tuple[str, ...], env: dict[str, str], reports: str) -> list[str]:
    return [expand(a.replace(REPORTS_PLACEHOLDER, reports), env) for a in command]


def wait_ready(port: int, path: str, status: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                if r.status == status:
                    return
        except urllib.error.HTTPError as e:
            if e.code == status:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"service on {port} not ready")


def run_step_directly(step: Step) -> None:
    reports = tempfile.mkdtemp()
    data = tempfile.mkdtemp()
    env = base_env({**step.env, **({step.data_env: data} if step.data_env else {})}, step.caches, reports)
    processes: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        by_name = {spec.name: spec for spec in step.services}
        for spec in step.services:
            needed = {by_name[n].url_env: urls[n] for n in spec.needs}
            process, port = start_service(spec, needed, data, reports)
            processes.append(process)
            urls[spec.name] = f"http://127.0.0.1:{port}"
        for spec in step.services:
            env[spec.url_env] = urls[spec.name]
        for setup in step.setup:
            subprocess.run(
                argv(setup, env, reports), cwd=ROOT / step.workdir, env=env, capture_output=True, check=False
            )
        subprocess.run(
            argv(step.command, env, reports), cwd=ROOT / step.workdir, env=env, capture_output=True, check=False
        )
    finally:
        for p in processes:
            p.terminate()
            p.wait()
        shutil.rmtree(reports, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def start_service(
    spec: ServiceSpec, needed: dict[str, str], data: str, reports: str
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    extra = {**spec.env, **needed, spec.port_env: str(port)}
    extra |= {spec.bind_env: "127.0.0.1"} if spec.bind_env else {}
    extra |= {spec.data_env: data} if spec.data_env else {}
    env = base_env(extra, spec.caches, reports)
    for setup in spec.setup:
        subprocess.run(argv(setup, env, reports), cwd=ROOT / spec.workdir, env=env, capture_output=True, check=True)
    process = subprocess.Popen(
        argv(spec.command, env, reports),
        cwd=ROOT / spec.workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(port, spec.health, spec.health_status)
    return process, port


def direct(steps: list[Step]) -> float:
    started = time.monotonic()
    threads = [threading.Thread(target=run_step_directly, args=(s,)) for s in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def through_jessy_ci() -> float:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "jessy_ci", "test", "--runner", "host", "--reports", tempfile.mkdtemp()],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit("jessy-ci test failed; fix that first:\n" + done.stderr.decode()[-2000:])
    return time.monotonic() - started


def help_time() -> float:
    jessy = shutil.which("jessy-ci", path=str(Path(sys.executable).parent)) or "jessy-ci"
    samples: list[float] = []
    for _ in range(5):
        started = time.monotonic()
        subprocess.run([jessy, "--help"], capture_output=True, check=True)
        samples.append(time.monotonic() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    project = config.load(ROOT)
    steps = plan_test(project, project.select([]))
    print("warming caches ...", flush=True)
    through_jessy_ci()
    ours: list[float] = []
    tools: list[float] = []
    for i in range(runs):
        ours.append(through_jessy_ci())
        tools.append(direct(steps))
        print(f"run {i + 1}: jessy-ci {ours[-1]:.2f}s, direct {tools[-1]:.2f}s", flush=True)
    ratio = statistics.median(ours) / statistics.median(tools)
    print(f"jessy-ci test --runner host: {statistics.median(ours):.2f}s (median of {runs})")
    print(f"same tool commands directly: {statistics.median(tools):.2f}s (median of {runs})")
    print(f"overhead ratio: {ratio:.3f} (target <= 1.03)")
    print(f"jessy-ci --help: {help_time():.3f}s (target <= 0.3s)")


if __name__ == "__main__":
    main()
