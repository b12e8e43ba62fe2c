"""Helpers for the jessy BDD steps: HTTP, service URLs, layer names, JSON."""

from __future__ import annotations

import http.client
import json
import re
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, cast

import pytest
from pytest_bdd import parsers

CORE: Final = "jessy-core"
API: Final = "jessy-api"

# Same rule as both services: ^[a-z0-9][a-z0-9._-]{0,63}$
MAX_LAYER_NAME_LENGTH: Final = 64

HTTP_TIMEOUT_SECONDS: Final = 60.0
_SEND_CHUNK_BYTES: Final = 64 * 1024
_ACCEPT: Final = "application/json, application/octet-stream, */*"

JsonObject = dict[str, object]


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    """An HTTP answer, whatever its status."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str] = field(repr=False)  # names lower-cased
    body: bytes = field(repr=False)

    def describe(self) -> str:
        """One line for assertion messages: request, status, start of the body."""
        preview = self.body[:300].decode("utf-8", errors="replace")
        more = "..." if len(self.body) > 300 else ""
        return (
            f"{self.method} {self.url} -> {self.status}, {len(self.body)} bytes, "
            f"content-type {self.headers.get('content-type')!r}: {preview!r}{more}"
        )

    def json(self) -> object:
        try:
            return cast(object, json.loads(self.body))
        except ValueError as exc:
            problem = f"response is not JSON ({exc}): {self.describe()}"
            raise AssertionError(problem) from None

    def json_object(self) -> JsonObject:
        document = as_json_object(self.json())
        assert document is not None, f"not a JSON object: {self.describe()}"
        return document


def http_request(
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    timeout: float = HTTP_TIMEOUT_SECONDS,
) -> HttpResponse:
    """Send one request and return the answer, 4xx and 5xx answers included.

    Uses the standard library's ``http.client`` rather than ``urllib.request``:
    a server may answer an oversize upload with 413 and close the connection
    before it has read the whole body. ``urllib.request`` then only raises the
    broken pipe and the answer is lost; here the body goes out in chunks, a
    send error is remembered, and the answer the server sent is still read.
    Raises ``AssertionError`` (a test failure) when no answer comes at all.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname is None:
        raise ValueError(f"not an absolute URL: {url!r}")
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    send_error: OSError | None = None
    try:
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            connection.putheader("Accept", _ACCEPT)
            connection.putheader("Connection", "close")
            if body is not None:
                connection.putheader("Content-Type", "application/octet-stream")
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders()
        except OSError as exc:
            raise AssertionError(f"{method} {url}: cannot connect ({exc})") from None
        if body:
            view = memoryview(body)
            try:
                for start in range(0, len(view), _SEND_CHUNK_BYTES):
                    connection.send(view[start : start + _SEND_CHUNK_BYTES])
            except OSError as exc:
                # The server stopped reading; the answer it sent may be there.
                send_error = exc
        try:
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            problem = f"{method} {url}: no HTTP response ({exc!r})"
            if send_error is not None:
                problem += f"; sending the body had failed first: {send_error!r}"
            raise AssertionError(problem) from None
        headers = {name.lower(): value for name, value in response.getheaders()}
        return HttpResponse(method, url, response.status, headers, data)
    finally:
        connection.close()


# --------------------------------------------------------------------------
# Services and layer names
# --------------------------------------------------------------------------


def layer_path_segment(name: str) -> str:
    """Percent-encode a layer name as a single URL path segment."""
    return urllib.parse.quote(name, safe="")


@dataclass(frozen=True)
class Services:
    """Endpoints of the running jessy-core and jessy-api."""

    core_url: str
    api_url: str

    def _base(self, service: str) -> str:
        if service == CORE:
            return self.core_url
        if service == API:
            return self.api_url
        pytest.fail(f"unknown service {service!r} in a step: use {CORE!r} or {API!r}")

    def health_url(self, service: str) -> str:
        return self._base(service) + ("/health" if service == CORE else "/api/health")

    def layers_url(self, service: str) -> str:
        return self._base(service) + ("/layers" if service == CORE else "/api/layers")

    def layer_url(self, service: str, name: str) -> str:
        return f"{self.layers_url(service)}/{layer_path_segment(name)}"

    def metrics_url(self, service: str) -> str:
        return self._base(service) + "/metrics"


@dataclass
class LayerNames:
    """Hands out unique valid layer names and remembers them for cleanup."""

    used: list[str] = field(default_factory=list[str])

    def new(self, length: int | None = None) -> str:
        name = f"bdd-{secrets.token_hex(6)}"
        if length is not None:
            if not len(name) <= length <= MAX_LAYER_NAME_LENGTH:
                raise ValueError(f"no valid layer name has {length} characters")
            name += "x" * (length - len(name))
        self.used.append(name)
        return name


# --------------------------------------------------------------------------
# JSON answers
# --------------------------------------------------------------------------


def as_json_object(value: object) -> JsonObject | None:
    """``value`` as a decoded JSON object, or ``None`` if it is something else."""
    return cast(JsonObject, value) if isinstance(value, dict) else None


def as_json_list(value: object) -> list[object] | None:
    """``value`` as a decoded JSON array, or ``None`` if it is something else."""
    return cast(list[object], value) if isinstance(value, list) else None


def json_field(response: HttpResponse, path: str) -> object:
    """The value at a dotted path such as ``core.status`` in a JSON answer."""
    value: object = response.json_object()
    walked: list[str] = []
    for key in path.split("."):
        mapping = as_json_object(value)
        where = ".".join(walked) or "(top level)"
        assert mapping is not None, f"{where} is not an object: {response.describe()}"
        walked.append(key)
        where = ".".join(walked)
        assert key in mapping, f"{where} is missing: {response.describe()}"
        value = mapping[key]
    return value


def layer_entries(response: HttpResponse) -> list[JsonObject]:
    """The entries of a ``{"layers": [{"name", "size"}, ...]}`` listing."""
    layers = as_json_list(json_field(response, "layers"))
    assert layers is not None, f'"layers" is not a list: {response.describe()}'
    entries = [as_json_object(entry) for entry in layers]
    objects = [entry for entry in entries if entry is not None]
    problem = f"a listed layer is not an object: {response.describe()}"
    assert len(objects) == len(entries), problem
    return objects


def first_difference(first: bytes, second: bytes) -> int:
    """Index of the first byte where two different byte strings differ."""
    for index, (a, b) in enumerate(zip(first, second, strict=False)):
        if a != b:
            return index
    return min(len(first), len(second))


def is_integer(value: object) -> bool:
    """A JSON integer (``bool`` is an ``int`` in Python, but not in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------
# Step parsers
# --------------------------------------------------------------------------

# In step texts given to ``step()``, ``{service}`` matches only the two service
# names, so that a step about another instance ("the jessy-api whose jessy-core
# is down") is never taken for one of these, and ``"{name}"`` matches a quoted
# layer name, which may be anything but a double quote.
_PLACEHOLDERS: Final = {
    "{service}": r"(?P<service>jessy-core|jessy-api)",
    "{name}": r'(?P<name>[^"]*)',
}


def step(text: str) -> parsers.re:
    """A step parser for ``text`` with ``{service}`` and ``{name}`` placeholders."""
    pattern = re.escape(text)
    for placeholder, group in _PLACEHOLDERS.items():
        pattern = pattern.replace(re.escape(placeholder), group)
    return parsers.re(pattern)
