"""A model's page as `GET /v1/models/{owner}/{name}` answers it: the latest version's OpenAPI
schema, built from the inputs the simulator checks predictions against, in Cog's shape (an enum
is a schema of its own that the input points to through `allOf`), so `check_models` reads the
simulator exactly as it reads Replicate."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .ids import utcnow
from .wan_models import FILE_INPUTS, Input, WanModel

_JSON_TYPES: dict[type, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
}


def model_page(name: str, model: WanModel, base_url: str) -> dict[str, Any]:
    owner, _, short_name = name.partition("/")
    schemas = input_schemas(model)
    openapi = {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    version = hashlib.sha256(json.dumps(schemas, sort_keys=True).encode()).hexdigest()
    return {
        "url": f"{base_url}/{name}",
        "owner": owner,
        "name": short_name,
        "description": f"{name} (simulated)",
        "visibility": "public",
        "run_count": 0,
        "latest_version": {
            "id": version,
            "created_at": utcnow().isoformat(),
            "cog_version": "0.14.0",
            "openapi_schema": openapi,
        },
    }


def input_schemas(model: WanModel) -> dict[str, Any]:
    """`components.schemas`: `Input` and one schema per enum input."""
    properties: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for order, (name, spec) in enumerate(model.inputs.items()):
        if spec.choices is not None:
            schemas[name] = {
                "enum": list(spec.choices),
                "type": _JSON_TYPES[spec.kind],
                "title": name,
                "description": "An enumeration.",
            }
            properties[name] = {"allOf": [{"$ref": f"#/components/schemas/{name}"}]}
        else:
            properties[name] = _plain(name, spec)
        properties[name]["x-order"] = order
    schemas["Input"] = {
        "type": "object",
        "title": "Input",
        "required": list(model.required_inputs),
        "properties": properties,
    }
    return schemas


def _plain(name: str, spec: Input) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES[spec.kind], "title": name.replace("_", " ")}
    if spec.kind is list:
        schema["items"] = {"type": "string", "format": "uri"}
    elif name in FILE_INPUTS:
        schema["format"] = "uri"
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    return schema
