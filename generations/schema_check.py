"""The catalog against each Replicate model's current input schema (`manage.py check_models`).

For every Replicate model behind a catalog entry: what we can send (each input name, its JSON
type, its values or range, whether every prediction carries it), compared with the latest
version's OpenAPI `Input`. A difference is breaking when a prediction we can make would be
refused: an input the model no longer takes, a type or enum or range that no longer admits a
value we send, a required input we do not always send. Optional inputs we never send are notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generations import catalog
from generations.controls import Control, Value
from generations.replicate import gateway

Schemas = Mapping[str, Any]  # an OpenAPI `components.schemas`


@dataclass(frozen=True)
class Sent:
    """One input we can send to a Replicate model."""

    name: str
    json_type: str  # "string", "integer", "number", "boolean" or "array"
    always: bool  # on every prediction
    values: tuple[Value, ...] = ()  # every value we can send, when they are few
    minimum: float | None = None  # the range we can send, for a free number
    maximum: float | None = None


@dataclass
class ModelReport:
    key: str  # the catalog's
    replicate_model: str
    version: str = ""  # the id of the version checked
    breaking: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_catalog(models: Iterable[catalog.CatalogModel]) -> list[ModelReport]:
    """A report per Replicate model behind `models`, read from Replicate now. A model Replicate
    no longer has is a breaking difference; any other failure to read one (unreachable, a wrong
    token, an answer without a schema) raises gateway.GatewayError with a sentence."""
    reports = []
    for model in models:
        for replicate_model, variants in replicate_models(model).items():
            try:
                version, schemas = gateway.model_schemas(replicate_model)
            except gateway.NotFound:
                report = ModelReport(model.key, replicate_model)
                report.breaking.append(f"Replicate has no model {replicate_model}.")
            else:
                report = compare(model.key, replicate_model, sent_inputs(model, variants), schemas)
                report.version = version
            reports.append(report)
    return reports


def broken_keys(reports: Iterable[ModelReport]) -> list[str]:
    """The catalog models with a breaking difference."""
    return sorted({report.key for report in reports if report.breaking})


def replicate_models(model: catalog.CatalogModel) -> dict[str, list[catalog.Variant]]:
    """The Replicate models behind a catalog entry, each with the variants it runs."""
    models: dict[str, list[catalog.Variant]] = {}
    for variant in model.variants:
        models.setdefault(variant.replicate_model, []).append(variant)
    return models


def sent_inputs(model: catalog.CatalogModel, variants: Iterable[catalog.Variant]) -> list[Sent]:
    """Every input `catalog.replicate_input` can send to the model running `variants`."""
    resolutions = [variant.resolution for variant in variants]
    sent: list[Sent] = []
    if model.takes_prompt:
        sent.append(Sent("prompt", "string", always=True))
    if model.orientation_input == "aspect_ratio":
        sent.append(Sent("aspect_ratio", "string", True, catalog.ASPECT_RATIOS))
    elif model.orientation_input == "size":
        sizes = tuple(catalog.SIZES[r, a] for r in resolutions for a in catalog.ASPECT_RATIOS)
        sent.append(Sent("size", "string", True, sizes))
    sent.extend(_control(control) for control in model.controls)
    if model.sends_resolution:
        values = tuple(dict.fromkeys(model.sent_resolution(r) for r in resolutions))
        sent.append(Sent("resolution", "string", True, values))
    if model.takes_negative_prompt:
        sent.append(Sent("negative_prompt", "string", always=False))
    sent.append(Sent("seed", "integer", False, minimum=0, maximum=catalog.SEED_MAX))
    for each in model.files:
        sent.append(Sent(each.input_name, "array" if each.as_list else "string", each.required))
    return sent


def _control(control: Control) -> Sent:
    always = control.always_sent and control.default is not None
    if control.kind == "choice":
        return Sent(control.input_name, _json_type(control.choices), always, control.choices)
    if control.kind == "boolean":
        return Sent(control.input_name, "boolean", always, (True, False))
    if control.kind == "url":
        return Sent(control.input_name, "string", always)
    return Sent(control.input_name, control.kind, always, (), control.minimum, control.maximum)


def _json_type(values: Iterable[Value]) -> str:
    types = {type(value) for value in values}
    if types <= {str}:
        return "string"
    if types <= {bool}:
        return "boolean"
    return "integer" if types <= {int} else "number"


def compare(key: str, replicate_model: str, sent: list[Sent], schemas: Schemas) -> ModelReport:
    """The differences between what we send and the schema's `Input`."""
    report = ModelReport(key, replicate_model)
    schema = schemas.get("Input") or {}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    listed: Any = schema.get("required")
    required = (
        [name for name in listed if isinstance(name, str)] if isinstance(listed, list) else []
    )
    for each in sent:
        if each.name not in properties:
            report.breaking.append(f"we send `{each.name}`, which the model no longer takes.")
            continue
        report.breaking.extend(_value_problems(each, _resolved(properties[each.name], schemas)))
    by_name = {each.name: each for each in sent}
    for name in required:
        if name not in by_name:
            report.breaking.append(f"the model requires `{name}`, which we never send.")
        elif not by_name[name].always:
            report.breaking.append(
                f"the model requires `{name}`, which we send only when the user gives one."
            )
    if unsent := sorted(set(properties) - set(by_name) - set(required)):
        report.notes.append(f"optional inputs we do not send: {', '.join(unsent)}.")
    return report


def _resolved(spec: Any, schemas: Schemas, depth: int = 0) -> dict[str, Any]:
    """An input's schema with the schemas its `allOf` and `$ref` name merged in (Cog puts an
    enum in a schema of its own); an optional input may be `anyOf: [<schema>, {"type":
    "null"}]`. Whatever is not a schema counts as an empty one, and a loop of references ends."""
    if not isinstance(spec, Mapping) or depth > MAX_REFERENCE_DEPTH:
        return {}
    merged = {name: value for name, value in spec.items() if name not in _COMBINERS}
    parts = _listed_parts(spec.get("allOf"))
    some = [part for part in _listed_parts(spec.get("anyOf")) if part.get("type") != "null"]
    parts += some if len(some) == 1 else []
    if isinstance(spec.get("$ref"), str):
        parts.append({"$ref": spec["$ref"]})
    for part in parts:
        ref = part.get("$ref")
        target = schemas.get(ref.rsplit("/", 1)[-1]) if isinstance(ref, str) else part
        merged = {**_resolved(target, schemas, depth + 1), **merged}
    return merged


MAX_REFERENCE_DEPTH = 5
_COMBINERS = ("allOf", "anyOf", "$ref")


def _listed_parts(value: Any) -> list[Mapping[str, Any]]:
    return [part for part in value if isinstance(part, Mapping)] if isinstance(value, list) else []


def _value_problems(sent: Sent, spec: Mapping[str, Any]) -> list[str]:
    name = f"`{sent.name}`"
    types = _types(spec.get("type"))
    widened = sent.json_type == "integer" and "number" in types  # an integer is a number
    if types and sent.json_type not in types and not widened:
        their_type = " or ".join(types)
        return [f"{name} is now of type {their_type}; we send {_a(sent.json_type)}."]
    problems: list[str] = []
    if isinstance(enum := spec.get("enum"), list):
        if not sent.values:
            problems.append(f"{name} now takes only {_listed(enum)}; we send any value.")
        elif refused := [value for value in sent.values if value not in enum]:
            problems.append(
                f"{name} no longer accepts {_listed(refused)} (it takes {_listed(enum)})."
            )
    low, high = _bound(spec.get("minimum")), _bound(spec.get("maximum"))
    if low is None and high is None:
        return problems
    if sent.values:
        outside = [
            value
            for value in sent.values
            if isinstance(value, int | float)
            and ((low is not None and value < low) or (high is not None and value > high))
        ]
        if outside:
            problems.append(f"{name} no longer admits {_listed(outside)} ({_range(low, high)}).")
    elif (low is not None and (sent.minimum is None or sent.minimum < low)) or (
        high is not None and (sent.maximum is None or sent.maximum > high)
    ):
        ours = _range(sent.minimum, sent.maximum)
        problems.append(f"{name} now takes {_range(low, high)}; we send {ours}.")
    return problems


def _types(value: Any) -> list[str]:
    """The JSON types a schema's `type` names (a name or a list of names), null aside."""
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [name for name in names if isinstance(name, str) and name != "null"]


def _bound(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _a(json_type: str) -> str:
    return f"an {json_type}" if json_type[0] in "aeiou" else f"a {json_type}"


def _listed(values: Iterable[Any]) -> str:
    return ", ".join(f'"{value}"' if isinstance(value, str) else str(value) for value in values)


def _range(low: float | None, high: float | None) -> str:
    if low is None:
        return f"at most {_number(high)}" if high is not None else "any number"
    if high is None:
        return f"at least {_number(low)}"
    return f"{_number(low)} to {_number(high)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
