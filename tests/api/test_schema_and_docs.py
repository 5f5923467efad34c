"""The OpenAPI description and the interactive docs, served without any CDN."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/v1/generations/", "get"),
    ("/api/v1/generations/", "post"),
    ("/api/v1/generations/{id}/", "get"),
    ("/api/v1/generations/{id}/", "delete"),
    ("/api/v1/generations/{id}/cancel/", "post"),
    ("/api/v1/generations/{id}/retry/", "post"),
    ("/api/v1/generations/{id}/star/", "post"),
    ("/api/v1/generations/{id}/star/", "delete"),
    ("/api/v1/generations/{id}/video/", "get"),
    ("/api/v1/models/", "get"),
    ("/api/v1/credits/", "get"),
    ("/api/v1/credits/ledger/", "get"),
    ("/api/v1/credits/packs/", "get"),
    ("/api/v1/credits/checkout/", "post"),
    ("/api/v1/credits/auto-refill/", "get"),
    ("/api/v1/credits/auto-refill/", "put"),
    ("/api/v1/webhooks/", "get"),
    ("/api/v1/webhooks/", "post"),
    ("/api/v1/webhooks/signing-secret/", "get"),
    ("/api/v1/webhooks/{id}/", "get"),
    ("/api/v1/webhooks/{id}/", "patch"),
    ("/api/v1/webhooks/{id}/", "delete"),
    ("/api/v1/webhooks/{id}/rotate-secret/", "post"),
    ("/api/v1/webhooks/{id}/test/", "post"),
    ("/api/v1/webhooks/{id}/deliveries/", "get"),
    ("/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend/", "post"),
    ("/api/v1/credits/plans/", "get"),
    ("/api/v1/credits/subscribe/", "post"),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker: DjangoDbBlocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_the_schema_describes_every_endpoint_and_nothing_else(schema):
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert operations == OPERATIONS


def test_every_operation_documents_its_errors_with_examples(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            errors = {code for code in operation["responses"] if code.startswith(("4", "5"))}
            if path != "/api/v1/models/":
                assert "401" in errors, (path, method)
            for code in errors:
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}
                assert content["examples"], (path, method, code)


def test_submissions_document_limits_idempotency_and_uploads(schema):
    create = schema["paths"]["/api/v1/generations/"]["post"]
    assert {"400", "402", "422", "429", "503"} <= set(create["responses"])
    assert "Retry-After" in create["responses"]["429"]["headers"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    upload = create["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    request_schema = schema["components"]["schemas"][upload.rsplit("/", 1)[-1]]
    assert request_schema["properties"]["image"]["format"] == "binary"


def test_the_api_key_scheme_is_bearer(schema):
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["ApiKey"]["description"],
    }


def test_the_docs_page_loads_only_our_own_files_and_no_inline_script():
    page = APIClient().get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(src.startswith("/") for src in sources), sources
    static = [src for src in sources if src.startswith("/static/")]
    assert any("swagger-ui-bundle" in src for src in static)
    for src in static:
        path = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", src.removeprefix("/static/"))
        assert finders.find(path), src
    script = next(src for src in sources if "script" in src and not src.startswith("/static/"))
    init = APIClient().get(script)
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in init.content.decode()
