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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import anyio
import httpx

from jessy_ci.errors import UsageError
from jessy_ci.report import Report, StepResult
from jessy_ci.verbs.execute import Notify, finish

MAX_TIMEOUT = 3600.0
_REQUEST_TIMEOUT = 5.0


def validate_url(raw: str, option: str = "--url") -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"{option} {raw!r}: expected an http(s) URL such as http://127.0.0.1:3000")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"{option} {raw!r}: expected an http(s) URL with a valid port") from None
    return raw.rstrip("/")


def validate_timeout(raw: float) -> float:
    if not 0 < raw <= MAX_TIMEOUT:
        raise UsageError(f"--timeout {raw:g}: expected seconds, more than 0 and at most {MAX_TIMEOUT:g}")
    return raw


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
        body = response.json()
    except json.JSONDecodeError:
        raise CheckFailed(f"GET /api/health answered {response.status_code} without JSON") from None
    if not isinstance(body, dict):
        raise CheckFailed(f"GET /api/health answered {response.status_code}: {str(body)[:80]}")  # pyright: ignore[reportUnknownArgumentType]
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


async def run_smoke(target: SmokeTarget, notify: Notify) -> Report:
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
            notify(f"{'✔' if ok else '✘'} smoke {name}: {detail}")
            wrote = wrote or name == "layer-round-trip"
            if not ok:
                break
        if wrote or report.steps[-1].kind == "layer-round-trip":
            report.notes.append(await _cleanup(client, target, scratch))
    return finish(report)


def _print(line: str) -> None:
    print(line, flush=True)


def _main(argv: list[str]) -> int:
    """In a container: ``python -m jessy_ci.verbs.smoke URL TIMEOUT [CORE_URL]``; prints summary.md."""
    url, timeout = validate_url(argv[0]), validate_timeout(float(argv[1]))
    core = validate_url(argv[2], "--core-url") if len(argv) > 2 and argv[2] else None
    report = anyio.run(run_smoke, SmokeTarget(url, timeout, core), _print)
    print(report.files["summary.md"].decode())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
