"""Measure what jessy-ci's host runner adds on top of the tools it runs.

Runs, in pairs and with warm caches: ``jessy-ci test --runner host`` and the very same tool commands directly (taken
from the same plan, so they cannot drift: same commands, env, caches and services, the same steps concurrently, with
services started by plain subprocesses). Prints both wall times (medians of --runs) and the median of the per-pair
ratios, and the fixed cost (the median of the per-pair differences). On this repo the target is <= 1.03.
``--go-module``: the same on a Go module alone, where jessy-ci's fixed cost shows most: scripts/overhead-module, a
stdlib-only module (a concurrent map and a JSON codec) whose ``go test -race -json ./...`` takes about 1.7 s warm, as
the target names; the target there is <= 1.10.
Also times ``jessy-ci --help`` (target <= 0.3 s).

    .venv/bin/python scripts/bench_overhead.py [--runs 5] [--go-module]
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
GO_MODULE = ROOT / "scripts" / "overhead-module"  # `go test -race -json ./...` of about 1.7 s warm
GO_MODULE_CONFIG = '[components.api]\nlanguage = "go"\npath = "."\ntests = ["unit"]\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(repo: Path, step_env: dict[str, str], caches: tuple[Cache, ...], reports: str) -> dict[str, str]:
    """The env the host runner gives a step: the same cache folders (the checkout's or the user's)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for cache in caches:
        if cache.env and not cache.containers_only:
            env[cache.env] = str((repo / ".jessy-ci" / "cache" if cache.per_checkout else user_caches()) / cache.name)
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


def run_step_directly(repo: Path, step: Step) -> None:
    reports = tempfile.mkdtemp()
    data = tempfile.mkdtemp()
    env = base_env(repo, {**step.env, **({step.data_env: data} if step.data_env else {})}, step.caches, reports)
    processes: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    try:
        by_name = {spec.name: spec for spec in step.services}
        for spec in step.services:
            needed = {by_name[n].url_env: urls[n] for n in spec.needs}
            process, port = start_service(repo, spec, needed, data, reports)
            processes.append(process)
            urls[spec.name] = f"http://127.0.0.1:{port}"
        for spec in step.services:
            env[spec.url_env] = urls[spec.name]
        for setup in step.setup:
            subprocess.run(
                argv(setup, env, reports), cwd=repo / step.workdir, env=env, capture_output=True, check=False
            )
        subprocess.run(
            argv(step.command, env, reports), cwd=repo / step.workdir, env=env, capture_output=True, check=False
        )
    finally:
        for p in processes:
            p.terminate()
            p.wait()
        shutil.rmtree(reports, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


def start_service(
    repo: Path, spec: ServiceSpec, needed: dict[str, str], data: str, reports: str
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    extra = {**spec.env, **needed, spec.port_env: str(port)}
    extra |= {spec.bind_env: "127.0.0.1"} if spec.bind_env else {}
    extra |= {spec.data_env: data} if spec.data_env else {}
    env = base_env(repo, extra, spec.caches, reports)
    for setup in spec.setup:
        subprocess.run(argv(setup, env, reports), cwd=repo / spec.workdir, env=env, capture_output=True, check=True)
    process = subprocess.Popen(
        argv(spec.command, env, reports),
        cwd=repo / spec.workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(port, spec.health, spec.health_status)
    return process, port


def direct(repo: Path, steps: list[Step]) -> float:
    started = time.monotonic()
    threads = [threading.Thread(target=run_step_directly, args=(repo, s)) for s in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def jessy_ci_env() -> dict[str, str]:
    """jessy-ci as a user runs it: with its bytecode cached (some CI images set PYTHONDONTWRITEBYTECODE, which makes
    every run compile jessy-ci's modules again: about 60 ms that no installed copy pays)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def jessy_ci_command() -> str:
    """The ``jessy-ci`` command a user runs (the console script beside this Python), not ``python -m jessy_ci``."""
    return shutil.which("jessy-ci", path=str(Path(sys.executable).parent)) or "jessy-ci"


def through_jessy_ci(repo: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="jessy-bench-reports-") as reports:  # not timed: made before, gone after
        started = time.monotonic()
        done = subprocess.run(
            [jessy_ci_command(), "test", "--runner", "host", "--reports", reports],
            cwd=repo,
            env=jessy_ci_env(),
            capture_output=True,
            check=False,
        )
        seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit("jessy-ci test failed; fix that first:\n" + done.stderr.decode()[-2000:])
    return seconds


def help_time() -> float:
    samples: list[float] = []
    for _ in range(5):
        started = time.monotonic()
        subprocess.run([jessy_ci_command(), "--help"], capture_output=True, check=True)
        samples.append(time.monotonic() - started)
    return statistics.median(samples)


def go_module() -> Path:
    """The Go module of the target alone in its repository: one component, unit tests only."""
    repo = Path(tempfile.mkdtemp(prefix="jessy-go-module-"))
    shutil.copytree(GO_MODULE, repo, dirs_exist_ok=True)
    (repo / "jessy-ci.toml").write_text(GO_MODULE_CONFIG)
    return repo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--go-module", action="store_true", help="measure on a Go module alone (target 1.10)")
    args = parser.parse_args()
    repo = go_module() if args.go_module else ROOT
    target = 1.10 if args.go_module else 1.03
    project = config.load(repo)
    steps = plan_test(project, project.select([]))
    print(f"{repo}: {', '.join(s.name for s in steps)}; warming caches ...", flush=True)
    through_jessy_ci(repo)
    direct(repo, steps)
    ours: list[float] = []
    tools: list[float] = []
    for i in range(args.runs):  # in pairs, alternating which goes first: a drift of the machine hits both
        if i % 2:
            tools.append(direct(repo, steps))
            ours.append(through_jessy_ci(repo))
        else:
            ours.append(through_jessy_ci(repo))
            tools.append(direct(repo, steps))
        print(f"pair {i + 1}: jessy-ci {ours[-1]:.2f}s, direct {tools[-1]:.2f}s", flush=True)
    ratio = statistics.median(a / b for a, b in zip(ours, tools, strict=True))
    print(f"jessy-ci test --runner host: {statistics.median(ours):.2f}s (median of {args.runs})")
    print(f"same tool commands directly: {statistics.median(tools):.2f}s (median of {args.runs})")
    print(f"overhead ratio (median of the pairs): {ratio:.3f} (target <= {target:.2f})")
    fixed = statistics.median(a - b for a, b in zip(ours, tools, strict=True))
    print(f"fixed cost (median of the pair differences): {fixed:.3f}s")
    print(f"jessy-ci --help: {help_time():.3f}s (target <= 0.3s)")
    if args.go_module:
        shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    main()
