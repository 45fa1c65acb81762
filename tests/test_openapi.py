"""The OpenAPI spec documents every endpoint and its errors; the UI works offline."""
import re

import pytest

EXPECTED = {
    ("/api/v1/healthz", "get"), ("/api/v1/version", "get"), ("/api/v1/batches", "post"),
    ("/api/v1/batches", "get"), ("/api/v1/batches/{batch_id}", "get"),
    ("/api/v1/batches/{batch_id}/cancel", "post"), ("/api/v1/runs", "get"),
    ("/api/v1/runs/{run_id}", "get"), ("/api/v1/runs/{run_id}/output", "get"),
    ("/api/v1/runs/{run_id}/cancel", "post"), ("/api/v1/runs/{run_id}/events", "get"),
    ("/api/v1/runs/{run_id}/events/{event_id}", "get"), ("/api/v1/runs/{run_id}/evidence", "get"),
    ("/api/v1/runs/{run_id}/evidence/{alias}", "get"), ("/api/v1/system/worker", "get"),
    ("/api/v1/runs/{run_id}/events/stream", "get"), ("/api/v1/runs/{run_id}/modifier_checks", "get"),
    ("/api/v1/structures/svg", "get"), ("/api/v1/system/config", "get"),
}


@pytest.fixture(scope="module")
def spec(service):
    return service.get("/openapi.json").json()


def test_every_endpoint_is_documented(spec):
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "put", "delete", "patch")}
    assert EXPECTED <= documented


def test_every_operation_documents_the_error_envelope(spec):
    envelope = spec["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["required"] == ["error"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post"):
                assert "default" in op["responses"], (path, method)
                assert any(code.startswith(("4", "5")) for code in op["responses"]) or \
                    path.endswith(("healthz", "version", "worker")), (path, method)


def test_swagger_ui_loads_its_assets_from_this_server(service):
    page = service.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/api/v1/docs/assets/") for a in assets)
    root = service.base_url.rsplit("/api/v1", 1)[0]
    import requests
    for asset in assets:
        reply = requests.get(root + asset, timeout=10)
        assert reply.status_code == 200 and len(reply.content) > 1000, asset
    assert "http://" not in page.text and "https://" not in page.text
    assert '"validatorUrl": null' in page.text  # Swagger UI's public validator is switched off
