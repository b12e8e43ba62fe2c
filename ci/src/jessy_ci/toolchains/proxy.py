"""The dev environment's front door on Dagger: socat in a small container, one TCP forward per served port.

A Dagger Service exposes one container's ports, so `dagger call serve up` gets this proxy: it listens on every
service's port and forwards each connection to the service bound under its name.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from jessy_ci.steps import Proxy, ServiceSpec

IMAGE = "debian:bookworm-slim"
SOCAT = (
    "sh",
    "-c",
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends socat >/dev/null "
    "&& rm -rf /var/lib/apt/lists/*",
)


def proxy(specs: tuple[ServiceSpec, ...], ports: Mapping[str, int] | None = None) -> Proxy:
    """Forward ``ports[name]`` (default: the service's own port) to ``name:port`` for every spec."""
    listen = {s.name: (ports or {}).get(s.name) or s.port for s in specs}
    forwards = [
        shlex.join(("socat", f"TCP-LISTEN:{listen[s.name]},fork,reuseaddr", f"TCP:{s.name}:{s.port}")) for s in specs
    ]
    return Proxy(
        image=IMAGE,
        setup=(SOCAT,),
        command=("sh", "-c", " & ".join(forwards) + " & wait"),
        ports=tuple(listen[s.name] for s in specs),
        needs=tuple(s.name for s in specs),
    )
