"""The endpoints API users register, the events each is owed and every attempt to deliver one.

An event row is written in the transaction that causes it (a generation's ending, a paid order),
once per endpoint: a unique (endpoint, key) pair makes a second write of the same event a no-op,
so nothing is ever sent twice for one event. Its body is stored as the exact bytes that are
signed and sent, so every retry sends the same message under the same `webhook-id`.
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

URL_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 200
ANSWER_KEPT_BYTES = 1024  # the first bytes of each answer kept in the delivery log
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)


class EventType(models.TextChoices):
    GENERATION_SUCCEEDED = "generation.succeeded", "A generation succeeded"
    GENERATION_FAILED = "generation.failed", "A generation failed"
    GENERATION_CANCELED = "generation.canceled", "A generation was canceled"
    ORDER_PAID = "order.paid", "An order was paid"
    CREDITS_LOW = "credits.low", "The credit balance is low"


# Sent only by "send a test event", whatever the endpoint subscribes to.
TEST_EVENT_TYPE = "webhook.test"


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: `whsec_` and 24 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


class WebhookEndpoint(models.Model):
    """A URL an API user asked us to send events to. Per-request endpoints (the `webhook` of one
    generation submitted through the API) have a `subject`, are not listed and sign with the
    account's per-request secret."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=URL_MAX_LENGTH)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, blank=True)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    # A per-request endpoint's subject ("generation:42"): it receives only that one's events.
    subject = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "wan_pwa"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["user"], condition=Q(subject=""), name="webhook_endpoint_user")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"], condition=~Q(subject=""), name="webhook_endpoint_subject"
            )
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def is_per_request(self) -> bool:
        return bool(self.subject)


class WebhookSigningSecret(models.Model):
    """The secret that signs an account's per-request webhooks (shown in Settings and the API)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_signing_secret"
    )
    secret = models.CharField(max_length=100, default=new_secret)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "wan_pwa"

    def __str__(self) -> str:
        return f"per-request webhook secret of {self.user_id}"


class EventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (no retries left)"


class WebhookEvent(models.Model):
    """One event owed to one endpoint: the message, its state and the next attempt's number."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="events_sent"
    )
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    # What the event is about (e.g. "generation:42"): unique per endpoint, so a second write of
    # the same event is refused by the database.
    key = models.CharField(max_length=100)
    type = models.CharField(max_length=40)
    body = models.TextField(help_text="The exact JSON sent (and signed) on every attempt.")
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="Last attempt's start.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "wan_pwa"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], name="webhook_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class WebhookDelivery(models.Model):
    """One attempt to deliver an event, as the log shows it."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    succeeded = models.BooleanField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    answer = models.TextField(blank=True, help_text="The first bytes of the answer.")
    error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    class Meta:
        app_label = "wan_pwa"
        ordering = ["-started_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"attempt {self.attempt} of {self.event_id}"
