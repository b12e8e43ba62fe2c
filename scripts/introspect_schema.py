"""Write the engine's GraphQL schema as SDL, introspected from a running Dagger engine with the `dagger` CLI.

    . "$(../shared/dagger-engine/engine env)"
    .venv/bin/python scripts/introspect_schema.py            # -> tests/support/dagger-schema.graphqls

The fast test tier validates every query the Dagger runner builds against this committed file (no engine needed);
rerun this script when the engine pin in dagger.json moves, and commit the result.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import graphql

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "support" / "dagger-schema.graphqls"


def introspect() -> graphql.GraphQLSchema:
    query = graphql.get_introspection_query(descriptions=True)
    done = subprocess.run(
        ["dagger", "--progress=plain", "query", "--no-mod"],
        input=query,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        sys.exit(f"dagger query exited {done.returncode}:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    return graphql.build_client_schema(result.get("data", result))


def engine_version() -> str:
    done = subprocess.run(["dagger", "version"], capture_output=True, text=True, check=True)
    return done.stdout.split()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if shutil.which("dagger") is None:
        sys.exit("dagger not on PATH: source the engine's env file first")
    schema = introspect()
    header = f"# Introspected from a Dagger {engine_version()} engine by scripts/introspect_schema.py; do not edit.\n"
    args.output.write_text(header + graphql.print_schema(schema) + "\n", encoding="utf-8")
    print(f"{args.output.relative_to(ROOT)}: {len(schema.type_map)} types")


if __name__ == "__main__":
    main()
