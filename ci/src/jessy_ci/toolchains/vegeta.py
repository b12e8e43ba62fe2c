"""Load with vegeta (github.com/tsenart/vegeta): a constant-rate (open model) HTTP load generator whose target list
spreads requests over several instances in a fixed order, whose results are JSON (``vegeta encode --to json`` per
request, ``vegeta report -type=json`` for the whole run), and which is one static Go binary installed from the Go
module proxy like any Go tool: ``go install`` into a tools cache, once per machine (and once per engine).

The load step: vegeta installed (setup), the target's instances and what they need started as services of the step
(each behind the resource sampler), then one script: seed the layers the reads ask for (a vegeta attack that writes
each once), then the load itself (``-rate R/1s -duration D -workers C -max-workers C``), its results encoded as JSON
and reported as JSON into ``{reports}/vegeta/``. The script travels base64-encoded (it has shell variables of its
own); it refuses any URL but the instances' own (127.0.0.1 on the host, their service names on Dagger).
"""

from __future__ import annotations

import base64
import math
import shlex
from dataclasses import replace

from jessy_ci.steps import REPORTS_PLACEHOLDER, Cache, LoadMix, LoadSettings, ServiceSpec, Step
from jessy_ci.toolchains import go

VEGETA_MODULE = "github.com/tsenart/vegeta/v12"
VEGETA_VERSION = "v12.13.0"
TOOLS = Cache(f"go-tools-{go.GO_VERSION}", "/cache/go-tools", env="JESSY_GO_TOOLS")
VEGETA_BIN = f"${{{TOOLS.env}}}/vegeta-{VEGETA_VERSION}"
INSTALL = (
    "sh",
    "-c",
    f"test -x {VEGETA_BIN}/vegeta || GOBIN={VEGETA_BIN} go install {VEGETA_MODULE}@{VEGETA_VERSION}",
)
REQUEST_TIMEOUT = "10s"  # one request; the attack itself ends after its duration (plus this, at most)
FOLDER = "vegeta"  # in {reports}: report.json, results.jsonl, seed.json, instances.tsv
REPORT_FILE = f"{FOLDER}/report.json"
RESULTS_FILE = f"{FOLDER}/results.jsonl"
SEED_FILE = f"{FOLDER}/seed.json"
INSTANCES_FILE = f"{FOLDER}/instances.tsv"
SCRIPT_FILE = f"{FOLDER}/load.sh"
MAX_TARGET_LINES = 5000

_SCRIPT = r"""# jessy-ci load (toolchains/vegeta.py): REPORTS, then NAME URL for each instance of the target.
# Seeds the layers the reads ask for, then one constant-rate vegeta attack over every instance; JSON into REPORTS.
set -eu
reports=$1
shift
out="$reports/vegeta"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
: > "$out/instances.tsv"
: > "$work/targets.sed"
n=0
while [ "$#" -ge 2 ]; do
  n=$((n + 1))
  case "$2" in
    http://127.0.0.1:* | "http://$1:"*) ;;
    *)
      echo "jessy-ci load: refusing $1 at $2: not a service this run started (127.0.0.1 or its own name)" >&2
      exit 2
      ;;
  esac
  printf '%s\t%s\n' "$1" "$2" >> "$out/instances.tsv"
  printf 's#@API%d@#%s#g\n' "$n" "$2" >> "$work/targets.sed"
  shift 2
done
if [ "$n" -ne @COUNT@ ]; then
  echo "jessy-ci load: expected @COUNT@ instances, got $n" >&2
  exit 2
fi
printf 's#@BODY@#%s#g\n' "$work/body" >> "$work/targets.sed"
head -c @BYTES@ /dev/urandom > "$work/body"
sed -f "$work/targets.sed" > "$work/seed.txt" << 'TARGETS'
@SEED@
TARGETS
sed -f "$work/targets.sed" > "$work/targets.txt" << 'TARGETS'
@TARGETS@
TARGETS
echo "seeding @SEEDS@ layers of @BYTES@ bytes"
vegeta attack -name seed -targets "$work/seed.txt" -rate @SEEDS@/1s -duration 1s -max-body 0 \
  -timeout @TIMEOUT@ > "$work/seed.bin"
vegeta report -type json "$work/seed.bin" > "$out/seed.json"
echo "load: @RATE@ requests/s for @SECONDS@s over $n instances, at most @WORKERS@ in flight"
vegeta attack -name load -targets "$work/targets.txt" -rate @RATE@/1s -duration @SECONDS@s \
  -workers @WORKERS@ -max-workers @WORKERS@ -max-body 0 -timeout @TIMEOUT@ > "$work/results.bin"
vegeta encode --to json "$work/results.bin" > "$out/results.jsonl"
vegeta report -type json "$work/results.bin" > "$out/report.json"
vegeta report "$work/results.bin"
"""


def instances(spec: ServiceSpec, count: int) -> tuple[ServiceSpec, ...]:
    """``count`` instances of a service, named ``<name>-<n>`` and found through ``<url_env>_<n>``."""
    return tuple(replace(spec, name=f"{spec.name}-{n}", url_env=f"{spec.url_env}_{n}") for n in range(1, count + 1))


def mix_cycle(mix: LoadMix) -> list[str]:
    """One cycle of scenarios in the proportions of ``mix``, each spread evenly over it (read, write, health)."""
    weights = {"read": mix.read, "write": mix.write, "health": mix.health}
    divisor = math.gcd(*weights.values())
    shares = {name: w // divisor for name, w in weights.items() if w}
    length = sum(shares.values())
    used = dict.fromkeys(shares, 0)
    cycle: list[str] = []
    for i in range(1, length + 1):
        name = max(shares, key=lambda s: (shares[s] * i / length - used[s], shares[s]))
        used[name] += 1
        cycle.append(name)
    return cycle


def targets(settings: LoadSettings, health_path: str) -> str:
    """vegeta's http target list, ``@API<n>@`` standing for instance n's URL and ``@BODY@`` for the body file: the
    mix cycle repeated until the reads went over every seeded layer, each line once per instance in turn."""
    cycle = mix_cycle(settings.mix)
    reads = cycle.count("read")
    rounds = max(1, math.ceil(settings.seed_layers / reads)) if reads else 1
    rounds = min(rounds, max(1, MAX_TARGET_LINES // (len(cycle) * settings.instances)))
    layers = settings.layers_path.rstrip("/")
    blocks: list[str] = []
    read = write = 0
    for kind in cycle * rounds:
        for n in range(1, settings.instances + 1):
            if kind == "read":
                blocks.append(f"GET @API{n}@{layers}/seed-{read % settings.seed_layers + 1}")
            elif kind == "write":
                blocks.append(f"PUT @API{n}@{layers}/load-{n}-{write}\n@@BODY@")
            else:
                blocks.append(f"GET @API{n}@{health_path}")
        read += kind == "read"
        write += kind == "write"
    return "\n\n".join(blocks)


def seed_targets(settings: LoadSettings) -> str:
    """Every seeded layer written once, through the first instance."""
    layers = settings.layers_path.rstrip("/")
    return "\n\n".join(f"PUT @API1@{layers}/seed-{i}\n@@BODY@" for i in range(1, settings.seed_layers + 1))


def script(settings: LoadSettings, health_path: str) -> str:
    """The load script for these settings (every figure written in; only the instances' URLs come at run time)."""
    values = {
        "@COUNT@": str(settings.instances),
        "@BYTES@": str(settings.layer_bytes),
        "@SEEDS@": str(settings.seed_layers),
        "@RATE@": str(settings.rate),
        "@SECONDS@": f"{settings.seconds:g}",
        "@WORKERS@": str(settings.concurrency),
        "@TIMEOUT@": REQUEST_TIMEOUT,
        "@SEED@": seed_targets(settings),
        "@TARGETS@": targets(settings, health_path),
    }
    text = _SCRIPT
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def load(
    settings: LoadSettings,
    services: tuple[ServiceSpec, ...],
    targets_: tuple[ServiceSpec, ...],
    health_path: str,
    run_id: str,
) -> Step:
    """The load step: vegeta from the tools cache, ``services`` started for it, the load script over the instances
    ``targets_`` (reached through their URL env); ``run_id`` keeps the engine from answering with an earlier run."""
    encoded = base64.b64encode(script(settings, health_path).encode()).decode()
    path = shlex.quote(f"{REPORTS_PLACEHOLDER}/{SCRIPT_FILE}")
    pairs = " ".join(f"{spec.name} ${{{spec.url_env}}}" for spec in targets_)
    shell = (
        f"mkdir -p {shlex.quote(f'{REPORTS_PLACEHOLDER}/{FOLDER}')} && echo {encoded} | base64 -d > {path} "
        f"&& exec sh {path} {shlex.quote(REPORTS_PLACEHOLDER)} {pairs}"
    )
    return Step(
        name=f"{settings.target}:load",
        component=settings.target,
        kind="load",
        toolchain="vegeta",
        image=go.IMAGE,
        workdir=".",
        command=("sh", "-c", shell),
        sources=(),
        setup=(INSTALL,),
        env={"PATH": f"{VEGETA_BIN}:${{PATH}}", "JESSY_LOAD_RUN": run_id},
        caches=(*go.CACHES, TOOLS),
        services=services,
    )
