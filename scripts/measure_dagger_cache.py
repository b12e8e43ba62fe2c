"""How well `dagger call test` is cached, measured on a real engine (a benchmark: prints figures, asserts nothing).

    . "$(../shared/dagger-engine/engine env)"          # or any machine with a dagger CLI and an engine
    .venv/bin/python scripts/measure_dagger_cache.py --runs 3 [--cold-state /var/tmp/dagger-engine]

Each measurement runs in its own git copy of the repository (tracked files), so the working tree is never touched:
- cold: the first `dagger call test` on an engine whose cache was emptied (only with ``--cold-state``: the harness's
  state dir; the engine is stopped, its cache removed, started again; images stay in its registry);
- no change: `dagger call test` again on the same tree — target ≤ 10 % of cold;
- one-line change in jessy-api: `dagger call test` (every component) after a new comment line in jessy-api's code,
  against `dagger call test --component jessy-api --component features` after another such line (what has to run
  again) — target ≤ 1.2 x; and no jessy-core test step may run again (their execs must come from the cache);
- warm, against the host: `dagger call test` after a one-line change in every component, against
  `jessy-ci test --runner host` after the same kind of change with warm local caches — target ≤ 1.5 x.
Medians of ``--runs`` repetitions; every repetition changes different lines, so none is a cache hit of another.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT.parent / "shared" / "dagger-engine" / "engine"
API_SOURCE = "services/jessy-api/internal/api/api.go"
CORE_SOURCE = "services/jessy-core/src/storage.rs"
FEATURES_SOURCE = "features/bdd_support.py"
GIT = ("git", "-c", "user.name=measure", "-c", "user.email=measure@jessy-ci.invalid")


def copy_repo(dest: Path) -> Path:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    commit(dest)
    return dest


def commit(repo: Path) -> None:
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "--allow-empty", "-m", "measure"], cwd=repo, check=True)


def touch(repo: Path, path: str, marker: str) -> None:
    """A one-line change: a comment line at the end of the file."""
    comment = "#" if path.endswith(".py") else "//"
    with (repo / path).open("a", encoding="utf-8") as f:
        f.write(f"{comment} measure_dagger_cache {marker}\n")


def timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {done.returncode} in {cwd}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def dagger_test(repo: Path, *components: str) -> tuple[float, str]:
    selected = [arg for c in components for arg in ("--component", c)]
    return timed(["dagger", "--progress=plain", "call", "test", *selected], repo)


def cargo_test_ran(output: str) -> bool:
    """Did a jessy-core test step execute (not come from the cache)? cargo prints these only when it runs."""
    return "Running unittests" in output or "Running tests/api.rs" in output


def median(runs: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(i) for i in range(runs))


def cold_engine(state: Path) -> None:
    env = {**os.environ, "DAGGER_ENGINE_STATE": str(state)}
    subprocess.run([str(HARNESS), "down"], env=env, check=True, capture_output=True)
    shutil.rmtree(state / "engine", ignore_errors=True)
    subprocess.run([str(HARNESS), "up"], env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-state", type=Path, help="the harness's state dir: measure a cold engine too")
    args = parser.parse_args()
    if shutil.which("dagger") is None:
        sys.exit("dagger not on PATH: source the engine's env file first")
    work = Path(tempfile.mkdtemp(prefix="measure-dagger-"))
    try:
        base = copy_repo(work / "base")
        figures: list[tuple[str, str]] = []
        if args.cold_state is not None:
            cold_engine(args.cold_state)
            cold, _ = dagger_test(base)
            figures.append(("cold dagger call test", f"{cold:.1f} s"))
        else:
            cold, _ = dagger_test(base)  # whatever state the engine is in: this fills the cache for what follows
            figures.append(("first dagger call test (engine cache as found)", f"{cold:.1f} s"))
        rerun = median(args.runs, lambda _: dagger_test(base)[0])
        figures.append(("no-change rerun", f"{rerun:.1f} s = {rerun / cold:.1%} of the first run (target ≤ 10 %)"))

        core_reran: list[bool] = []

        def after_api_change(i: int) -> float:
            touch(base, API_SOURCE, f"all-{i}")
            commit(base)
            seconds, output = dagger_test(base)
            core_reran.append(cargo_test_ran(output))
            return seconds

        def api_alone(i: int) -> float:
            touch(base, API_SOURCE, f"alone-{i}")
            commit(base)
            return dagger_test(base, "jessy-api", "features")[0]

        everything = median(args.runs, after_api_change)
        alone = median(args.runs, api_alone)
        figures.append(
            (
                "one-line change in jessy-api",
                f"{everything:.1f} s against {alone:.1f} s for jessy-api and features alone "
                f"= {everything / alone:.2f} x "
                f"(target ≤ 1.2 x); a jessy-core test step ran again: {'yes' if any(core_reran) else 'no'}",
            )
        )

        def change_everything(repo: Path, i: int) -> None:
            for path in (API_SOURCE, CORE_SOURCE, FEATURES_SOURCE):
                touch(repo, path, f"warm-{i}")
            commit(repo)

        def warm_dagger(i: int) -> float:
            change_everything(base, i)
            return dagger_test(base)[0]

        def warm_host(i: int) -> float:
            change_everything(base, i)
            return timed(
                [sys.executable, "-m", "jessy_ci", "test", "--runner", "host", "--reports", str(work / "r")], base
            )[0]

        timed(
            [sys.executable, "-m", "jessy_ci", "test", "--runner", "host", "--reports", str(work / "r")], base
        )  # warm
        dagger_warm = median(args.runs, warm_dagger)
        host_warm = median(args.runs, warm_host)
        figures.append(
            (
                "warm, every component changed",
                f"dagger call test {dagger_warm:.1f} s against jessy-ci test --runner host {host_warm:.1f} s = "
                f"{dagger_warm / host_warm:.2f} x (target ≤ 1.5 x)",
            )
        )
        width = max(len(name) for name, _ in figures)
        for name, value in figures:
            print(f"{name:<{width}}  {value}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
