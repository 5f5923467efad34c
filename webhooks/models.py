from __future__ import annotations

from django.db import models


class WebhookEvent(models.Model):
    """One verified delivery, as received. The unique webhook id is what makes a repeated
    delivery (Replicate retries, duplicates) a no-op."""

    class Source(models.TextChoices):
        REPLICATE = "replicate", "Replicate"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.REPLICATE)
    webhook_id = models.CharField(max_length=255)
    generation = models.ForeignKey(
        "generations.Generation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
    )
    prediction_id = models.CharField(max_length=64, blank=True)
    replicate_status = models.CharField(max_length=20, blank=True)
    payload = models.JSONField()
    outcome = models.CharField(max_length=30, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "webhook_id"], name="webhook_event_unique_id")
        ]
        indexes = [
            models.Index(fields=["generation", "received_at"], name="webhook_event_generation"),
            models.Index(fields=["received_at"], name="webhook_event_received"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} ({self.replicate_status or 'unknown'})"


class StripeEvent(models.Model):
    """One verified Stripe event, recorded once under its unique id (Stripe delivers at least
    once), with what it did. `payment_intent` finds the events of a payment whose order was not
    known yet when they came, so fulfilment can apply them."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    order = models.ForeignKey(
        "credits.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stripe_events",
    )
    livemode = models.BooleanField(default=False)
    created = models.DateTimeField(null=True, blank=True, help_text="When Stripe made it.")
    payload = models.JSONField()
    outcome = models.CharField(max_length=30, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["received_at"], name="stripe_event_received")]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.type})"
