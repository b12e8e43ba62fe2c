"""Scenarios of validation.feature: invalid layer names and oversize layers."""

from __future__ import annotations

import secrets

from pytest_bdd import given, parsers, scenarios, then, when

from .bdd_support import (
    CORE,
    MAX_LAYER_NAME_LENGTH,
    HttpResponse,
    LayerNames,
    Services,
    http_request,
    is_integer,
    json_field,
    layer_entries,
    step,
)

scenarios("validation.feature")


@given(
    parsers.parse("a new layer name of {length:d} characters"),
    target_fixture="layer_name",
)
def new_layer_name_of_length(layer_names: LayerNames, length: int) -> str:
    assert length == MAX_LAYER_NAME_LENGTH, "meant for the longest valid name"
    return layer_names.new(length)


@given(
    "a payload one byte larger than the maximum layer size",
    target_fixture="payload",
)
def payload_over_limit(max_layer_bytes: int) -> bytes:
    return secrets.token_bytes(max_layer_bytes + 1)


@given("a payload of exactly the maximum layer size", target_fixture="payload")
def payload_at_limit(max_layer_bytes: int) -> bytes:
    return secrets.token_bytes(max_layer_bytes)


@when(
    step('I upload 3 bytes to the layer named "{name}" through {service}'),
    target_fixture="response",
)
def upload_to_named_layer(services: Services, service: str, name: str) -> HttpResponse:
    return http_request("PUT", services.layer_url(service, name), b"abc")


@when(
    step('I download the layer named "{name}" through {service}'),
    target_fixture="response",
)
def download_named_layer(services: Services, service: str, name: str) -> HttpResponse:
    return http_request("GET", services.layer_url(service, name))


@then(step('no layer named "{name}" is listed by jessy-core'))
def not_listed_by_core(services: Services, name: str) -> None:
    answer = http_request("GET", services.layers_url(CORE))
    assert answer.status == 200, f"listing the layers: {answer.describe()}"
    names = [entry.get("name") for entry in layer_entries(answer)]
    problem = f"the invalid name {name!r} was stored: {answer.describe()}"
    assert name not in names, problem


@then('the JSON field "size" is the maximum layer size')
def size_is_maximum(response: HttpResponse, max_layer_bytes: int) -> None:
    size = json_field(response, "size")
    assert is_integer(size) and size == max_layer_bytes, (
        f"size is {size!r}, expected {max_layer_bytes}: {response.describe()}"
    )
