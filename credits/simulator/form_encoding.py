"""Stripe's request encoding: `a[b][0][c]=v` form fields into nested dicts and lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


class FormError(ValueError):
    pass


def decode(body: str) -> dict[str, Any]:
    """`line_items[0][quantity]=1&expand[]=x` -> {"line_items": [{"quantity": "1"}],
    "expand": ["x"]}. Values stay strings, as Stripe's parameters are typed per endpoint."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.match(key)
        if not match:
            raise FormError(f"Invalid parameter name: {key}")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        _put(root, parts, value)
    return _lists(root)


def _put(node: dict[str, Any], parts: list[str], value: str) -> None:
    for index, part in enumerate(parts[:-1]):
        if part == "":  # a[] appends: give it the next free index
            part = str(len(node))
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise FormError(f"Invalid parameter name: {'.'.join(parts[: index + 1])}")
        node = child
    last = parts[-1] or str(len(node))
    node[last] = value


def _lists(node: Any) -> Any:
    """Dicts whose keys are all 0..n-1 were arrays."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        keys = sorted(converted, key=int)
        if keys == [str(i) for i in range(len(keys))]:
            return [converted[key] for key in keys]
    return converted
