"""The read-only root filesystem probe of a production image (``<service>:readonly``).

Production runs the images with a read-only root filesystem (``docker run --read-only``, Kubernetes
``readOnlyRootFilesystem``) and one writable data volume. The probe runs inside the image as production runs it —
its own user, entrypoint and environment, every top-level directory mounted read-only, the data volume mounted —
with a static busybox mounted beside it (distroless images have no shell): it starts the service, waits for its
health endpoint, tries to create a file in every directory it was given and in the data directory, reads the data
directory, and asks for health again. It prints one line per finding; ``gates/readonly.py`` judges them.
"""

from __future__ import annotations

from jessy_ci.steps import Probe, ServiceSpec

IMAGE = "busybox:1.37.0-musl"  # a static busybox: runs in any image, distroless included
BINARY = "/bin/busybox"  # where IMAGE keeps it
MOUNT = "/.jessy-ci-probe/busybox"  # where the probe mounts it (read-only) inside the image under test

# Arguments: PORT HEALTH, then (added by the runner) DATA_DIR (empty: none) DIR... -- ENTRYPOINT...
# Output lines: `health before|after STATUS`, `write DIR writable|denied REASON`, `data DIR writable|denied REASON`,
# `read DIR ok|denied`. It always exits 0: the gate decides.
SCRIPT = r"""
bb=$0
port=$1; health=$2; data=$3; shift 3
dirs=""
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do dirs="$dirs $1"; shift; done
shift
"$@" >&2 &
pid=$!
status() {
  # stdin stays open until the answer came: a client that half-closes is a cancelled request to a Go server
  { printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$health"; $bb sleep 3; } \
    | $bb timeout 3 $bb nc 127.0.0.1 "$port" 2>/dev/null | $bb awk '$1 ~ /^HTTP\// {print $2; exit}'
}
s=""; i=0
while [ -z "$s" ] && [ "$i" -lt 60 ]; do
  s=$(status); [ -n "$s" ] || $bb sleep 0.5; i=$((i + 1))
done
echo "health before ${s:-none}"
try() {
  if err=$($bb touch "$2/.jessy-ci-probe" 2>&1); then
    $bb rm -f "$2/.jessy-ci-probe"; echo "$1 $2 writable"
  else
    echo "$1 $2 denied ${err##*: }"
  fi
}
for d in $dirs; do try write "$d"; done
if [ -n "$data" ]; then
  try data "$data"
  if $bb ls "$data" >/dev/null 2>&1; then echo "read $data ok"; else echo "read $data denied"; fi
fi
s=$(status)
echo "health after ${s:-none}"
kill "$pid" 2>/dev/null
exit 0
"""


def probe(spec: ServiceSpec, image: str = IMAGE) -> Probe:
    """The probe of one service: busybox sh running SCRIPT for its port and health endpoint (``image``: IMAGE, or
    where it is pulled from instead)."""
    return Probe(image, BINARY, MOUNT, (MOUNT, "sh", "-c", SCRIPT, MOUNT, str(spec.port), spec.health))
