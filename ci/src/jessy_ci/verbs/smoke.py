"""smoke: is a deployment alive? api health, core health through the api, a layer write/read round trip on a
scratch name (deleted afterwards through the core when its URL is known). Each check is retried with backoff until
the deadline while a deployment settles; the Report lists every check, and every failure.

Runs in-process (``jessy-ci smoke``) or, on Dagger, as ``python -m jessy_ci.verbs.smoke URL TIMEOUT [CORE_URL]`` in
a python container (httpx and anyio installed there).
"""

from __future__ import annotations

import json
import secrets
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import anyio
import httpx

from jessy_ci.gates import summary
from jessy_ci.report import Report, StepResult
from jessy_ci.session import Say, Session
from jessy_ci.verbs.execute import run_steps
from jessy_ci.verbs.plan import plan_smoke

_REQUEST_TIMEOUT = 5.0


@dataclass(frozen=True)
class SmokeTarget:
    url: str
    timeout: float
    core_url: str | None = None


class CheckFailed(Exception):
    """One attempt failed; the message says what was seen."""


Check = Callable[[httpx.AsyncClient], Awaitable[str]]


async def _health(client: httpx.AsyncClient, url: str) -> dict[str, object]:
    response = await client.get(f"{url}/api/health")
    try:
        body: object = response.json()
    except json.JSONDecodeError:
        raise CheckFailed(f"GET /api/health answered {response.status_code} without JSON") from None
    if not isinstance(body, dict):
        raise CheckFailed(f"GET /api/health answered {response.status_code}: {str(body)[:80]}")
    return cast(dict[str, object], body)


def _checks(target: SmokeTarget, scratch: str) -> list[tuple[str, Check]]:
    url = target.url
    payload = secrets.token_bytes(64)

    async def api_health(client: httpx.AsyncClient) -> str:
        response = await client.get(f"{url}/api/health")
        if response.status_code != 200:
            raise CheckFailed(f"GET /api/health answered {response.status_code}")
        return "GET /api/health answered 200"

    async def core_health(client: httpx.AsyncClient) -> str:
        body = await _health(client, url)
        core = body.get("core")
        status = cast(dict[str, object], core).get("status") if isinstance(core, dict) else None
        if status != "ok":
            raise CheckFailed(f"the api reports its core as {status!r}: {json.dumps(core)[:120]}")
        return "the api reports its core ok"

    async def round_trip(client: httpx.AsyncClient) -> str:
        put = await client.put(f"{url}/api/layers/{scratch}", content=payload)
        if put.status_code not in (200, 201, 204):
            raise CheckFailed(f"PUT /api/layers/{scratch} answered {put.status_code}: {put.text[:80]}")
        got = await client.get(f"{url}/api/layers/{scratch}")
        if got.status_code != 200 or got.content != payload:
            raise CheckFailed(f"GET /api/layers/{scratch} answered {got.status_code} with other bytes")
        return f"wrote and read back {len(payload)} bytes as {scratch}"

    return [("api-health", api_health), ("core-health", core_health), ("layer-round-trip", round_trip)]


async def _until_deadline(check: Check, client: httpx.AsyncClient, deadline: float) -> tuple[bool, str, int]:
    """Retry with backoff until it passes or the deadline passes; (passed, what was seen last, attempts)."""
    delay, attempts, seen = 0.25, 0, ""
    while True:
        attempts += 1
        try:
            return True, await check(client), attempts
        except CheckFailed as e:
            seen = str(e)
        except httpx.HTTPError as e:
            seen = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        if time.monotonic() + delay > deadline:
            return False, seen, attempts
        await anyio.sleep(delay)
        delay = min(delay * 2, 5.0)


async def _cleanup(client: httpx.AsyncClient, target: SmokeTarget, scratch: str) -> str:
    if target.core_url is None:
        return f"scratch layer {scratch} left behind: the api has no DELETE; pass --core-url to delete it"
    try:
        response = await client.delete(f"{target.core_url}/layers/{scratch}")
    except httpx.HTTPError as e:
        return f"scratch layer {scratch} not deleted: {type(e).__name__}"
    return f"scratch layer {scratch} deleted (core answered {response.status_code})"


async def run_smoke(target: SmokeTarget, say: Say) -> Report:
    """Every check in order, each retried until the deadline; a failed check ends the run (the next ones depend on
    it) and is listed with what was seen last."""
    report = Report(verb="smoke", notes=[f"target: {target.url} (timeout {target.timeout:g}s)"])
    scratch = f"smoke-{secrets.token_hex(6)}"
    deadline = time.monotonic() + target.timeout
    wrote = False
    async with httpx.AsyncClient(timeout=_REQUEST_TIMEOUT) as client:
        for name, check in _checks(target, scratch):
            started = time.monotonic()
            ok, seen, attempts = await _until_deadline(check, client, deadline)
            detail = seen + (f" (after {attempts} attempts)" if attempts > 1 else "")
            if not ok:
                detail = f"not passing within {target.timeout:g}s: {detail}"
            step = StepResult(
                f"smoke:{name}", "smoke", name, "passed" if ok else "failed", time.monotonic() - started, detail
            )
            report.steps.append(step)
            say(f"{'✔' if ok else '✘'} smoke {name}: {detail}")
            wrote = wrote or name == "layer-round-trip"
            if not ok:
                break
        if wrote or report.steps[-1].kind == "layer-round-trip":
            report.notes.append(await _cleanup(client, target, scratch))
    return report


async def run_smoke_step(session: Session, target: SmokeTarget, bound: tuple[str, ...] = ()) -> Report:
    """The same checks from a container of the session's runner (Dagger: reachable from the engine, or through the
    services ``bound``, which the runner was given)."""
    run_id = uuid.uuid4().hex[:12]  # every call measures anew: the engine never answers from its cache
    step = plan_smoke(session.project, target.url, target.timeout, target.core_url or "", run_id, bound)
    return await run_steps("smoke", [step], session.runner, session.say)


def _say(line: str) -> None:
    print(line, flush=True)


def _main(argv: list[str]) -> int:
    """In a container: ``python -m jessy_ci.verbs.smoke URL TIMEOUT [CORE_URL]`` (checked by the caller's options);
    prints summary.md. Only the summary: the caller's edge writes the reports (index.html among them), and this
    container has httpx and anyio, not the HTML report's libraries."""
    target = SmokeTarget(argv[0], float(argv[1]), argv[2] if len(argv) > 2 and argv[2] else None)
    report = anyio.run(run_smoke, target, _say)
    print(summary.render(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
