"""The API docs show each operation with curl, Python and TypeScript (`x-codeSamples`, and in
the description Swagger UI renders), using only the SDK calls the SDKs offer, and name the
scope an API key needs."""

from __future__ import annotations

import re

import pytest
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient

from tests.api.payloads import EVERY_SCOPE

pytestmark = pytest.mark.django_db

# The SDKs' calls (the developer platform's contract): sdks/python and sdks/typescript.
PYTHON_CALLS = {
    "generations.create",
    "generations.wait",
    "generations.create_and_wait",
    "generations.list",
    "generations.get",
    "generations.cancel",
    "generations.retry",
    "generations.delete",
    "generations.star",
    "generations.unstar",
    "generations.download",
    "credits.get",
    "credits.ledger",
    "models.list",
}
TYPESCRIPT_CALLS = {
    re.sub(r"_(\w)", lambda m: m.group(1).upper(), call) for call in PYTHON_CALLS
}  # camelCase: createAndWait
# The operations the SDKs have a call for (buying credits is left to the web page).
SDK_OPERATION_IDS = {
    *(f"generations_{verb}" for verb in ("list", "create", "retrieve", "destroy", "cancel")),
    *(f"generations_{verb}" for verb in ("retry", "star", "unstar", "video")),
    "credits_balance",
    "credits_ledger",
    "models_list",
}
CALL = re.compile(r"client\.(\w+\.\w+)\(")


@pytest.fixture(scope="module")
def operations(django_db_blocker: DjangoDbBlocker) -> dict[tuple[str, str], dict]:
    with django_db_blocker.unblock():
        schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    return {
        (path, method): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_every_operation_has_a_curl_sample_that_names_its_path(operations):
    for (path, method), operation in operations.items():
        curl = operation["x-codeSamples"][0]
        assert curl["label"] == "curl"
        assert re.sub(r"\{\w+\}", "42", path) in curl["source"], (path, method)
        if method not in ("get", "post"):
            assert f"-X {method.upper()}" in curl["source"]
        public = path == "/api/v1/models/"
        assert ("Authorization: Bearer" in curl["source"]) is not public


def sdk_operations(operations: dict[tuple[str, str], dict]) -> dict[tuple[str, str], dict]:
    found = {key: op for key, op in operations.items() if op["operationId"] in SDK_OPERATION_IDS}
    assert len(found) == len(SDK_OPERATION_IDS)
    return found


def test_the_sdk_samples_use_only_the_sdks_calls(operations):
    for key, operation in sdk_operations(operations).items():
        samples = {s["label"]: s["source"] for s in operation["x-codeSamples"]}
        assert set(samples) == {"curl", "Python", "TypeScript"}, key
        python_calls = set(CALL.findall(samples["Python"]))
        typescript_calls = set(CALL.findall(samples["TypeScript"]))
        assert python_calls and python_calls <= PYTHON_CALLS, (key, python_calls)
        assert typescript_calls and typescript_calls <= TYPESCRIPT_CALLS, (key, typescript_calls)
        assert "from wanpwa import WanPWA" in samples["Python"]
        assert 'import { WanPWA } from "wanpwa";' in samples["TypeScript"]


def test_swagger_ui_shows_the_samples_in_each_description(operations):
    for operation in sdk_operations(operations).values():
        description = operation["description"]
        assert "```bash" in description and "```python" in description and "```ts" in description


def test_each_operation_names_the_scope_its_key_needs(operations):
    expected = {
        ("/api/v1/generations/", "get"): "generations:read",
        ("/api/v1/generations/", "post"): "generations:write",
        ("/api/v1/generations/{id}/video/", "get"): "generations:read",
        ("/api/v1/generations/{id}/star/", "delete"): "generations:write",
        ("/api/v1/credits/ledger/", "get"): "credits:read",
        ("/api/v1/credits/checkout/", "post"): "billing",
    }
    for key, scope in expected.items():
        assert operations[key]["x-required-scope"] == scope
        assert f"**Scope:** `{scope}`" in operations[key]["description"]
    assert "x-required-scope" not in operations[("/api/v1/models/", "get")]
    for key, operation in operations.items():
        if key[0] != "/api/v1/models/":
            assert operation["x-required-scope"] in EVERY_SCOPE, key
