"""The resource sampler of a service: a few lines of POSIX sh that a service's command runs first. It starts a
background loop that reads the figures of its own process from /proc (``stat``: CPU ticks; ``status``: VmHWM,
VmRSS; ``fd/``: open files) every interval into ``{reports}/resources/<service>.tsv``, then becomes the service
(``exec``), so it samples exactly the service process, on the host and inside a container alike, and ends with it.

The script travels base64-encoded: both runners expand ``$NAME`` in commands, and the script has variables of its
own. Only the service's own command (``${CARGO_TARGET_DIR}/…``) is left for the runner to expand.
"""

from __future__ import annotations

import base64
import shlex
from dataclasses import replace

from jessy_ci.steps import REPORTS_PLACEHOLDER, ServiceSpec

FOLDER = "resources"  # in {reports}: <service>.tsv (the samples) and <service>.sh (the sampler that ran)
HEADER = "# jessy-ci resources v1"
SAMPLER = r"""# jessy-ci resource sampler: OUT INTERVAL COMMAND...
# Every INTERVAL seconds one line into OUT: uptime, utime and stime (clock ticks), VmHWM and VmRSS (kB), open file
# descriptors and the command name of this process, which becomes COMMAND (exec) right after starting the loop.
out=$1
interval=$2
shift 2
pid=$$
{
  echo "HEADER pid=$pid clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100) interval=$interval"
  while sleep "$interval" && [ -r "/proc/$pid/stat" ]; do
    read -r up _ < /proc/uptime || break
    read -r stat < "/proc/$pid/stat" || break
    comm=${stat#*\(}
    comm=${comm%\)*}
    set -- ${stat##*\) }
    utime=${12}
    stime=${13}
    hwm=0
    rss=0
    while read -r key value _; do
      case $key in
        VmHWM:) hwm=$value ;;
        VmRSS:) rss=$value ;;
      esac
    done < "/proc/$pid/status"
    set -- "/proc/$pid/fd/"*
    echo "$up $utime $stime $hwm $rss $# $comm"
  done
} > "$out" 2>/dev/null &
exec "$@"
""".replace("HEADER", HEADER)


def samples_file(service: str) -> str:
    """Where a service's samples are, relative to the step's reports folder."""
    return f"{FOLDER}/{service}.tsv"


def sampled(spec: ServiceSpec, interval: float) -> ServiceSpec:
    """The service with the sampler in front of its command (its volume init still runs the bare binary)."""
    folder = f"{REPORTS_PLACEHOLDER}/{FOLDER}"
    script = shlex.quote(f"{folder}/{spec.name}.sh")
    out = shlex.quote(f"{REPORTS_PLACEHOLDER}/{samples_file(spec.name)}")
    encoded = base64.b64encode(SAMPLER.encode()).decode()
    shell = (
        f"mkdir -p {shlex.quote(folder)} && echo {encoded} | base64 -d > {script} "
        f"&& exec sh {script} {out} {interval:g} {shlex.join(spec.command)}"
    )
    return replace(spec, command=("sh", "-c", shell), reports=True)
