"""REST API representations of webhook endpoints and their deliveries."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from wan_pwa.api.fields import StrictBooleanField, TextField
from wan_pwa.outgoing_webhooks.models import (
    DESCRIPTION_MAX_LENGTH,
    URL_MAX_LENGTH,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

EVENTS_HELP = "The event types it receives: " + ", ".join(f"`{t}`" for t in EventType.values)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(EventType.values), help_text=EVENTS_HELP
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "disabled_reason": {"help_text": "Why it is disabled (by you, or after failing)."},
            "failing_since": {
                "help_text": "Since when every delivery failed; null while it succeeds. Disabled "
                "after 5 days of failures."
            },
        }


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The `whsec_` signing secret. Shown only in this answer: keep it.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


URL_SHAPE = RegexValidator(r"^https?://\S+$", "Give an https address.")


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = TextField(
        max_length=URL_MAX_LENGTH,
        validators=[URL_SHAPE],
        help_text="Your receiver's https address (a public host).",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(EventType.values),
        min_length=1,
        max_length=len(EventType.values),
        help_text=EVENTS_HELP,
    )
    description = TextField(
        required=False, allow_blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH
    )


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = TextField(max_length=URL_MAX_LENGTH, validators=[URL_SHAPE], required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(EventType.values),
        min_length=1,
        max_length=len(EventType.values),
        required=False,
        help_text=EVENTS_HELP,
    )
    description = TextField(required=False, allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH)
    enabled = StrictBooleanField(
        required=False,
        help_text="false stops deliveries; true starts them again (and clears the failures).",
    )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "attempt",
            "succeeded",
            "status_code",
            "latency_ms",
            "answer",
            "error",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status_code": {"help_text": "Your receiver's HTTP status; null if none came."},
            "answer": {"help_text": "The first 1 KB of your receiver's answer."},
        }


class DeliverySerializer(serializers.ModelSerializer):
    """One event sent (or being sent) to the endpoint, with every attempt."""

    webhook_id = serializers.CharField(
        source="message_id", read_only=True, help_text="The `webhook-id` header: dedupe on it."
    )
    attempts_log = AttemptSerializer(source="deliveries", many=True, read_only=True)

    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "webhook_id",
            "type",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "attempts_log",
        ]
        read_only_fields = fields


class SigningSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs the per-request webhooks (`webhook` on POST /api/v1/generations/).",
    )
