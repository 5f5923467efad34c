"""The webhooks we send, in the back office: endpoints and the events sent to them with every
attempt. Read-only (the worker and the owners write them), for staff given the view
permissions; the signing secrets are never shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wan_pwa.background.admin import ReadOnlyAdmin
from wan_pwa.outgoing_webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("url", "user", "enabled", "failing_since", "subject", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "user__username", "user__email")
    raw_id_fields = ("user",)
    fields = (
        "user",
        "url",
        "description",
        "events",
        "enabled",
        "disabled_reason",
        "failing_since",
        "subject",
        "previous_secret_expires_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields


class AttemptInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ("attempt", "succeeded", "status_code", "latency_ms", "error", "answer", "started_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "type", "endpoint", "status", "attempts", "created_at")
    list_filter = ("status", "type")
    search_fields = ("message_id", "key", "endpoint__url", "endpoint__user__username")
    list_select_related = ("endpoint",)
    date_hierarchy = "created_at"
    fields = (
        "endpoint",
        "message_id",
        "type",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "created_at",
        "body",
    )
    readonly_fields = fields
    inlines = [AttemptInline]
