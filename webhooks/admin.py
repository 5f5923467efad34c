from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from webhooks.actions import reprocess_stripe_event, reprocess_webhook_event
from webhooks.models import StripeEvent, WebhookEvent


class EventLogAdmin(admin.ModelAdmin):
    """An event log shows what was received; only its "process again" action acts on it."""

    actions = ["process_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # What arrived is evidence (and the dedupe of redeliveries): the retention job prunes.
        return False

    @admin.display(description="Payload")
    def formatted_payload(self, event: WebhookEvent | StripeEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True))


def outcomes_summary(outcomes: list[str]) -> str:
    counts = ", ".join(f"{outcomes.count(o)} {o}" for o in sorted(set(outcomes)))
    return f"Processed {len(outcomes)} event(s) again: {counts}."


@admin.register(WebhookEvent)
class WebhookEventAdmin(EventLogAdmin):
    list_display = (
        "received_at",
        "webhook_id",
        "generation",
        "prediction_id",
        "replicate_status",
        "outcome",
    )
    list_filter = ("outcome", "replicate_status", "source", "received_at")
    search_fields = ("=webhook_id", "=prediction_id", "=generation__id")
    list_select_related = ("generation",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = (
        "source",
        "webhook_id",
        "received_at",
        "generation",
        "prediction_id",
        "replicate_status",
        "outcome",
        "formatted_payload",
    )
    readonly_fields = fields

    def has_process_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookevent")

    @admin.action(description="Process again", permissions=["process"])
    def process_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        outcomes = [reprocess_webhook_event(event) for event in queryset.order_by("received_at")]
        self.message_user(request, outcomes_summary(outcomes))


@admin.register(StripeEvent)
class StripeEventAdmin(EventLogAdmin):
    list_display = ("received_at", "event_id", "type", "order", "outcome", "livemode")
    list_filter = ("type", "outcome", "livemode", "received_at")
    search_fields = (
        "=event_id",
        "=object_id",
        "=payment_intent",
        "=order__id",
        "order__user__username",
    )
    list_select_related = ("order",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    fields = (
        "event_id",
        "type",
        "created",
        "received_at",
        "object_id",
        "payment_intent",
        "order",
        "outcome",
        "livemode",
        "formatted_payload",
    )
    readonly_fields = fields

    def has_process_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_stripeevent")

    @admin.action(description="Process again", permissions=["process"])
    def process_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        outcomes = [reprocess_stripe_event(event) for event in queryset.order_by("received_at")]
        self.message_user(request, outcomes_summary(outcomes))
