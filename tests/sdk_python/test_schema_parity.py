"""The SDK's models against the OpenAPI description the app serves: every object an operation
answers has a model, with the same fields and types (nullable where the API may say null), and
`generations.create` takes every field the API does. A field added to the API without the SDK,
or to the SDK without the API, fails here."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from wanpwa import models
from wanpwa.generations import GenerationParams

# Each object schema the API answers with, and the SDK's model of it.
MODELS: dict[str, type[models.APIObject]] = {
    "Generation": models.Generation,
    "Balance": models.Credits,
    "Bucket": models.Bucket,
    "LedgerEntry": models.LedgerEntry,
    "CreditPack": models.CreditPack,
    "Checkout": models.Checkout,
    "Plan": models.Plan,
    "PlanSubscription": models.PlanSubscription,
    "Subscribe": models.Subscription,
    "AutoRefill": models.AutoRefill,
    "CatalogModel": models.Model,
    "Control": models.Control,
    "Resolution": models.Resolution,
    "SourceLimits": models.SourceLimits,
    "AudioLimits": models.AudioLimits,
    "WebhookEndpoint": models.WebhookEndpoint,
    "WebhookEndpointWithSecret": models.WebhookEndpoint,
    "Delivery": models.WebhookDelivery,
    "Attempt": models.WebhookAttempt,
    "SigningSecret": models.SigningSecret,
}
# Fields only some answers carry: None in the model when absent, of the schema's type when there.
IN_SOME_ANSWERS: dict[type[models.APIObject], set[str]] = {models.WebhookEndpoint: {"secret"}}
SCALARS = {"integer": "int", "number": "float", "boolean": "bool", "object": "dict"}


@pytest.fixture
def schema(client: Client, db: None) -> dict[str, Any]:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def components(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["components"]["schemas"]


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def answered_objects(schema: dict[str, Any]) -> set[str]:
    """The object schemas the operations' successful JSON answers contain, at any depth, the
    error shape and the pagination wrappers' envelopes left out."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                name = ref_name(node["$ref"])
                target = components(schema)[name]
                if target.get("type") == "object" and name not in found:
                    if not name.startswith("Paginated"):
                        found.add(name)
                    walk(target)
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                if status.startswith("2"):
                    walk(answer.get("content", {}).get("application/json", {}).get("schema"))
    return found


def expected_type(schema: dict[str, Any], prop: dict[str, Any]) -> str:
    """The Python type an SDK field needs for a schema property, written as `render` does."""
    nullable = bool(prop.get("nullable"))
    if "$ref" in prop:
        name = ref_name(prop["$ref"])
        target = components(schema)[name]
        if name in MODELS:
            base = MODELS[name].__name__
        elif "enum" in target:  # a choice: its values are strings, or null (NullEnum)
            base = "None" if target["enum"] == [None] else "str"
        else:
            base = expected_type(schema, target)
    elif "oneOf" in prop or "allOf" in prop:
        options = {expected_type(schema, p) for p in prop.get("oneOf") or prop["allOf"]}
        nullable = nullable or "None" in options or any(o.endswith("|None") for o in options)
        (base,) = {option.removesuffix("|None") for option in options} - {"None"}
    elif prop.get("type") == "array":
        base = f"list[{expected_type(schema, prop.get('items', {}))}]"
    elif prop.get("type") == "string":
        base = "datetime" if prop.get("format") == "date-time" else "str"
    elif "type" in prop:
        base = SCALARS[prop["type"]]
    else:
        return "Any"  # any JSON value
    return f"{base}|None" if nullable and base != "None" else base


def render(hint: Any) -> str:
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        (other,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return f"{render(other)}|None"
    if typing.get_origin(hint) is list:
        return f"list[{render(typing.get_args(hint)[0])}]"
    if typing.get_origin(hint) is dict or hint is dict:
        return "dict"
    if hint is Any:
        return "Any"
    return hint.__name__


def test_every_object_the_api_answers_has_a_model_of_the_sdk(schema: dict[str, Any]):
    assert answered_objects(schema) == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_has_the_fields_and_types_of_its_schema(schema: dict[str, Any], name: str):
    model = MODELS[name]
    properties = components(schema)[name]["properties"]
    hints = typing.get_type_hints(model)
    only_some = IN_SOME_ANSWERS.get(model, set())
    fields = {field.name for field in dataclasses.fields(model)}
    assert fields - only_some == set(properties) - only_some
    expected = {field: expected_type(schema, prop) for field, prop in properties.items()}
    rendered = {field: render(hints[field]) for field in properties}
    rendered.update({f: rendered[f].removesuffix("|None") for f in only_some & set(properties)})
    assert rendered == expected


def test_create_takes_every_field_of_the_api(schema: dict[str, Any]):
    request = components(schema)["GenerationCreateRequest"]
    assert set(request["properties"]) <= set(GenerationParams.__annotations__)
    assert set(request["required"]) == GenerationParams.__required_keys__


def test_the_type_rendering_sees_a_difference():
    """The comparison above can fail: a field typed wrongly renders differently."""
    assert render(int | None) == "int|None" != render(int)
    assert render(list[models.Control]) == "list[Control]"
    assert render(datetime) == "datetime" != render(str)
