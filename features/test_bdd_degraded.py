"""Scenarios of degraded.feature: jessy-api with its jessy-core down.

These use ``JESSY_API_ORPHAN_URL``, a jessy-api instance whose jessy-core URL
points at a port where nothing listens.
"""

from __future__ import annotations

from pytest_bdd import scenarios, when

from .bdd_support import HttpResponse, http_request, layer_path_segment

scenarios("degraded.feature")


@when(
    "I check the health of the jessy-api whose jessy-core is down",
    target_fixture="response",
)
def check_orphan_health(api_orphan_url: str) -> HttpResponse:
    return http_request("GET", f"{api_orphan_url}/api/health")


@when(
    "I upload the payload through the jessy-api whose jessy-core is down",
    target_fixture="response",
)
def upload_through_orphan(
    api_orphan_url: str,
    layer_name: str,
    payload: bytes,
) -> HttpResponse:
    url = f"{api_orphan_url}/api/layers/{layer_path_segment(layer_name)}"
    return http_request("PUT", url, payload)
