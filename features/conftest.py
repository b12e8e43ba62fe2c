"""Fixtures and shared steps for the jessy BDD scenarios.

The scenarios run against services that are already running. The pipeline
passes their base URLs through the environment:

- ``JESSY_CORE_URL``: jessy-core, e.g. ``http://127.0.0.1:8081``
- ``JESSY_API_URL``: a jessy-api connected to that jessy-core
- ``JESSY_API_ORPHAN_URL``: a second jessy-api whose jessy-core URL points at
  a port where nothing listens
- ``JESSY_MAX_LAYER_BYTES``: the layer size limit both services were started
  with (optional, 16777216 when unset)

A scenario that needs a variable which is not set fails, naming it.
"""

from __future__ import annotations

import math
import os
import secrets
import urllib.parse
import warnings
from collections.abc import Iterator
from typing import Final

import pytest
from pytest_bdd import given, parsers, then, when

from .bdd_support import (
    HttpResponse,
    LayerNames,
    Services,
    first_difference,
    http_request,
    is_integer,
    json_field,
    layer_path_segment,
    step,
)

CORE_URL_VAR: Final = "JESSY_CORE_URL"
API_URL_VAR: Final = "JESSY_API_URL"
API_ORPHAN_URL_VAR: Final = "JESSY_API_ORPHAN_URL"
MAX_LAYER_BYTES_VAR: Final = "JESSY_MAX_LAYER_BYTES"
DEFAULT_MAX_LAYER_BYTES: Final = 16 * 1024 * 1024


# --------------------------------------------------------------------------
# Configuration from the environment
# --------------------------------------------------------------------------


def _base_url_from_env(var: str, what: str) -> str:
    raw = os.environ.get(var, "").strip()
    if not raw:
        pytest.fail(
            f"{var} is not set: export {var} as the base URL of {what} "
            "(for example http://127.0.0.1:8080) before running the BDD features",
            pytrace=False,
        )
    parts = urllib.parse.urlsplit(raw)
    if parts.scheme != "http" or not parts.hostname:
        problem = f"{var}={raw!r} is not a base URL like http://127.0.0.1:8080"
        pytest.fail(problem, pytrace=False)
    return raw.rstrip("/")


@pytest.fixture(scope="session")
def core_url() -> str:
    """Base URL of the running jessy-core."""
    return _base_url_from_env(CORE_URL_VAR, "the running jessy-core")


@pytest.fixture(scope="session")
def api_url() -> str:
    """Base URL of the running jessy-api that is connected to jessy-core."""
    return _base_url_from_env(API_URL_VAR, "the running jessy-api")


@pytest.fixture(scope="session")
def api_orphan_url() -> str:
    """Base URL of a jessy-api whose jessy-core URL points at a dead port."""
    return _base_url_from_env(
        API_ORPHAN_URL_VAR,
        "a jessy-api started with a jessy-core URL where nothing listens",
    )


@pytest.fixture(scope="session")
def max_layer_bytes() -> int:
    """The layer size limit the services were started with."""
    raw = os.environ.get(MAX_LAYER_BYTES_VAR, "").strip()
    if not raw:
        return DEFAULT_MAX_LAYER_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        problem = f"{MAX_LAYER_BYTES_VAR}={raw!r} is not a positive integer"
        pytest.fail(problem, pytrace=False)
    return int(raw)


@pytest.fixture(scope="session")
def services(core_url: str, api_url: str) -> Services:
    """Endpoints of the running jessy-core and jessy-api."""
    return Services(core_url=core_url, api_url=api_url)


@pytest.fixture
def layer_names(core_url: str) -> Iterator[LayerNames]:
    """Unique layer names; each one is deleted through jessy-core afterwards."""
    names = LayerNames()
    yield names
    for name in names.used:
        url = f"{core_url}/layers/{layer_path_segment(name)}"
        try:
            answer = http_request("DELETE", url)
        except AssertionError as exc:
            warnings.warn(f"cleanup of layer {name!r} failed: {exc}", stacklevel=1)
            continue
        if answer.status not in (204, 404):
            problem = f"cleanup of layer {name!r}: {answer.describe()}"
            warnings.warn(problem, stacklevel=1)


# --------------------------------------------------------------------------
# Steps shared by the features
# --------------------------------------------------------------------------


@given("a new layer name", target_fixture="layer_name")
def new_layer_name(layer_names: LayerNames) -> str:
    return layer_names.new()


@given(parsers.parse("a payload of {size:d} random bytes"), target_fixture="payload")
def random_payload(size: int) -> bytes:
    return secrets.token_bytes(size)


@when(step("I check the health of {service}"), target_fixture="response")
def check_health(services: Services, service: str) -> HttpResponse:
    return http_request("GET", services.health_url(service))


@when(step("I upload the payload through {service}"), target_fixture="response")
def upload_payload(
    services: Services,
    service: str,
    layer_name: str,
    payload: bytes,
) -> HttpResponse:
    return http_request("PUT", services.layer_url(service, layer_name), payload)


@when(step("I download the layer through {service}"), target_fixture="response")
def download_layer(services: Services, service: str, layer_name: str) -> HttpResponse:
    return http_request("GET", services.layer_url(service, layer_name))


@then(parsers.parse("the response status is {status:d}"))
def response_status_is(response: HttpResponse, status: int) -> None:
    assert response.status == status, f"expected {status}: {response.describe()}"


@then("the response is a server error")
def response_is_server_error(response: HttpResponse) -> None:
    problem = f"expected a 5xx status: {response.describe()}"
    assert 500 <= response.status <= 599, problem


@then("the response is a JSON object")
def response_is_json_object(response: HttpResponse) -> None:
    content_type = response.headers.get("content-type", "").lower()
    problem = f"expected a JSON content-type: {response.describe()}"
    assert "json" in content_type, problem
    response.json_object()


@then("the response is a JSON error")
def response_is_json_error(response: HttpResponse) -> None:
    assert response.status >= 400, f"expected an error status: {response.describe()}"
    response_is_json_object(response)
    message = json_field(response, "error")
    problem = f'"error" is not a non-empty string: {response.describe()}'
    assert isinstance(message, str) and message.strip(), problem


@then(parsers.parse('the JSON field "{path}" is "{expected}"'))
def json_field_is_string(response: HttpResponse, path: str, expected: str) -> None:
    value = json_field(response, path)
    problem = f"{path} is {value!r}, expected {expected!r}: {response.describe()}"
    assert value == expected, problem


@then(parsers.parse('the JSON field "{path}" is {expected:d}'))
def json_field_is_integer(response: HttpResponse, path: str, expected: int) -> None:
    value = json_field(response, path)
    problem = f"{path} is {value!r}, expected {expected}: {response.describe()}"
    assert is_integer(value) and value == expected, problem


@then(parsers.parse('the JSON field "{path}" is the layer name'))
def json_field_is_layer_name(
    response: HttpResponse,
    path: str,
    layer_name: str,
) -> None:
    json_field_is_string(response, path, layer_name)


@then(parsers.parse('the JSON field "{path}" is a non-empty string'))
def json_field_is_non_empty_string(response: HttpResponse, path: str) -> None:
    value = json_field(response, path)
    assert isinstance(value, str) and value.strip(), (
        f"{path} is {value!r}, expected a non-empty string: {response.describe()}"
    )


@then(parsers.parse('the JSON field "{path}" is a non-negative integer'))
def json_field_is_non_negative_integer(response: HttpResponse, path: str) -> None:
    value = json_field(response, path)
    assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, (
        f"{path} is {value!r}, expected an integer >= 0: {response.describe()}"
    )


@then(parsers.parse('the JSON field "{path}" is a non-negative number'))
def json_field_is_non_negative_number(response: HttpResponse, path: str) -> None:
    value = json_field(response, path)
    problem = f"{path} is {value!r}, expected a number >= 0: {response.describe()}"
    assert isinstance(value, int | float) and not isinstance(value, bool), problem
    assert math.isfinite(value) and value >= 0, problem


@then("the response body is the payload")
def response_body_is_payload(response: HttpResponse, payload: bytes) -> None:
    if response.body == payload:
        return
    at = first_difference(response.body, payload)
    problem = f"differs from the {len(payload)} bytes uploaded at byte {at}"
    raise AssertionError(f"the body {problem}: {response.describe()}")
