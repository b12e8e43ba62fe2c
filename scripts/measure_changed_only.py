"""Measure changed-only runs: in a temporary worktree, commit a change to jessy-api only, then time
`jessy-ci test --changed-since HEAD~1` against `jessy-ci test -c jessy-api` and print the ratio (target: <= 1.1).

Usage: .venv/bin/python scripts/measure_changed_only.py [--runner host] [--verb test]
Both runs use a copy of the host caches (.jessy-ci/cache: a cargo target folder must never be shared by two
checkouts of a crate); a warm-up run comes first so neither pays for a cold cache; then --runs alternating pairs,
compared by their medians. Prints the selection the changed-only run made. No assertion: the numbers are for people.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JESSY_CI = [sys.executable, "-m", "jessy_ci"]


def run(args: list[str], cwd: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    print(f"  {' '.join(args[2:])}: exit {done.returncode} in {seconds:.1f}s", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runner", default="host")
    parser.add_argument("--verb", default="test")
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jessy-measure-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), "HEAD"], cwd=ROOT, check=True)
        try:
            if (ROOT / ".jessy-ci").is_dir():  # warm caches, copied (never shared: see above)
                shutil.copytree(ROOT / ".jessy-ci", tree / ".jessy-ci", symlinks=True)
            main_go = tree / "services/jessy-api/main.go"
            main_go.write_text(main_go.read_text() + "\n// measure_changed_only\n")
            git = ["git", "-c", "user.name=measure", "-c", "user.email=measure@localhost"]
            subprocess.run([*git, "commit", "-qam", "change jessy-api only"], cwd=tree, check=True)
            reports = Path(tmp) / "reports"
            alone = [*JESSY_CI, opts.verb, "--runner", opts.runner, "-c", "jessy-api", "--reports", str(reports)]
            changed = [*JESSY_CI, opts.verb, "--runner", opts.runner, "--changed-since", "HEAD~1"]
            changed += ["--reports", str(reports)]
            print("warm-up:")
            run(changed, tree)
            print("measured:")
            alone_times: list[float] = []
            changed_times: list[float] = []
            for _ in range(opts.runs):
                alone_times.append(run(alone, tree))
                changed_times.append(run(changed, tree))
            print((reports / "summary.md").read_text())
            t_alone, t_changed = statistics.median(alone_times), statistics.median(changed_times)
            print(
                f"jessy-api alone: {t_alone:.1f}s, changed-only: {t_changed:.1f}s (medians of {opts.runs}), "
                f"ratio {t_changed / t_alone:.2f} (target <= 1.1)"
            )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
