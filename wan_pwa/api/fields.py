"""Serializer fields the API's inputs share: strict about types, as the OpenAPI description is."""

from __future__ import annotations

from rest_framework import serializers


class TextField(serializers.CharField):
    """A string and nothing else: DRF's CharField would turn a number into text."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only `true` or `false`, as the OpenAPI description says, not DRF's yes/on/1 variants."""

    TRUE_VALUES = {"true", True}
    FALSE_VALUES = {"false", False}
