"""Scenarios of metrics.feature: /metrics of both services counts requests by route pattern."""

from __future__ import annotations

import re

from pytest_bdd import given, parsers, scenarios, then

from .bdd_support import API, Services, http_request, step

scenarios("metrics.feature")

# One sample line of the text format: name{label="value",...} value
# (a label value may hold braces: the route pattern "/layers/{name}")
_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>(?:[^"}]|"(?:[^"\\]|\\.)*")*)\})?\s+(?P<value>\S+)'
)
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


def metrics_text(services: Services, service: str) -> str:
    answer = http_request("GET", services.metrics_url(service))
    assert answer.status == 200, f"metrics of {service}: {answer.describe()}"
    content_type = answer.headers.get("content-type", "")
    assert content_type.startswith("text/plain"), f"metrics of {service}: content-type {content_type!r}"
    return answer.body.decode()


def requests_counted(text: str, route: str, method: str, status: str) -> float:
    """jessy_http_requests_total for one route pattern, method and status (0 when the series does not exist)."""
    wanted = {"route": route, "method": method, "status": status}
    for line in text.splitlines():
        sample = _SAMPLE.match(line)
        if sample is None or sample["name"] != "jessy_http_requests_total":
            continue
        labels = {m["key"]: m["value"] for m in _LABEL.finditer(sample["labels"] or "")}
        if all(labels.get(key) == value for key, value in wanted.items()):
            return float(sample["value"])
    return 0.0


@given("the payload was uploaded through jessy-api")
def payload_uploaded(services: Services, layer_name: str, payload: bytes) -> None:
    answer = http_request("PUT", services.layer_url(API, layer_name), payload)
    assert answer.status == 201, f"setting up layer {layer_name!r}: {answer.describe()}"


@given(step("the metrics of {service} were read"), target_fixture="metrics_before")
def metrics_before(services: Services, service: str) -> str:
    return metrics_text(services, service)


@then(
    parsers.re(
        r'the metrics of (?P<service>jessy-core|jessy-api) count one more (?P<method>[A-Z]+) of "(?P<route>[^"]+)" '
        r"answered (?P<status>\d{3})"
    )
)
def one_more_request(
    services: Services, service: str, method: str, route: str, status: str, metrics_before: str
) -> None:
    before = requests_counted(metrics_before, route, method, status)
    after_text = metrics_text(services, service)
    after = requests_counted(after_text, route, method, status)
    counted = [line for line in after_text.splitlines() if line.startswith("jessy_http_requests_total")]
    assert after == before + 1, (
        f'{service}: jessy_http_requests_total{{route="{route}",method="{method}",status="{status}"}} went from '
        f"{before} to {after}, expected one more; series now: {counted}"
    )


@then(step("no metric of {service} names the layer"))
def no_metric_names_the_layer(services: Services, service: str, layer_name: str) -> None:
    text = metrics_text(services, service)
    naming = [line for line in text.splitlines() if layer_name in line]
    assert naming == [], f"{service} has series with the raw path of layer {layer_name!r}: {naming}"
