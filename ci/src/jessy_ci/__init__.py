"""jessy-ci: pipeline-as-code CI for the Jessy services (lint, tests, coverage, benchmarks, images, Trivy scans,
publish), as a Dagger module and a CLI with a host runner."""

# The Dagger runtime loads ``jessy_ci:JessyCi`` (also the `dagger.mod` entry point). It is imported lazily so that
# the CLI (``jessy-ci --help``) and the pure modules never import the Dagger SDK.

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jessy_ci.main import JessyCi as JessyCi

__all__ = ["JessyCi"]


def __getattr__(name: str) -> Any:
    if name == "JessyCi":
        from jessy_ci.main import JessyCi

        return JessyCi
    raise AttributeError(f"module 'jessy_ci' has no attribute {name!r}")
