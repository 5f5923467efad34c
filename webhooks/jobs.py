"""Periodic jobs of webhooks, run by the workers (registered in `apps.py`)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from webhooks.models import WebhookEvent


def prune_webhook_events() -> str:
    """Deletes webhook events older than WEBHOOK_EVENT_RETENTION_DAYS. Their ids only need to be
    remembered while a delivery can still be replayed (signatures older than 5 minutes are
    refused). Idempotent: it deletes by age only."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_EVENT_RETENTION_DAYS)
    deleted, _ = WebhookEvent.objects.filter(received_at__lt=cutoff).delete()
    return f"deleted {deleted} webhook event(s)"
