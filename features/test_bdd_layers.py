"""Scenarios of layers.feature: layers round-trip between jessy-api and jessy-core."""

from __future__ import annotations

import secrets

from pytest_bdd import given, parsers, scenarios, then, when

from .bdd_support import (
    API,
    CORE,
    HttpResponse,
    Services,
    http_request,
    is_integer,
    layer_entries,
    step,
)

scenarios("layers.feature")


@given(parsers.parse("a layer of {size:d} random bytes uploaded through jessy-api"))
def layer_uploaded_through_api(services: Services, layer_name: str, size: int) -> None:
    content = secrets.token_bytes(size)
    answer = http_request("PUT", services.layer_url(API, layer_name), content)
    assert answer.status == 201, f"setting up layer {layer_name!r}: {answer.describe()}"


@when(step("I list the layers through {service}"), target_fixture="response")
def list_layers(services: Services, service: str) -> HttpResponse:
    return http_request("GET", services.layers_url(service))


@when("I delete the layer through jessy-core", target_fixture="response")
def delete_layer_on_core(services: Services, layer_name: str) -> HttpResponse:
    return http_request("DELETE", services.layer_url(CORE, layer_name))


@then(parsers.parse("the listing contains the layer with size {size:d}"))
def listing_contains_layer(response: HttpResponse, layer_name: str, size: int) -> None:
    entries = layer_entries(response)
    matching = [entry for entry in entries if entry.get("name") == layer_name]
    problem = f"{len(matching)} entries for {layer_name!r}: {response.describe()}"
    assert len(matching) == 1, problem
    listed_size = matching[0].get("size")
    assert is_integer(listed_size) and listed_size == size, (
        f"{layer_name!r} is listed with size {listed_size!r}, expected {size}"
    )
