"""The notification marker of each ended generation, and the devices that take Web Push."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class GenerationNotice(models.Model):
    """One per generation that ended by itself (succeeded or failed), written in the transaction
    that ends it: the unique generation makes the notification exactly-once, and `sent_at`
    marks the batch that told the user."""

    generation = models.OneToOneField(
        "generations.Generation", on_delete=models.CASCADE, related_name="notice"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                condition=Q(sent_at__isnull=True),
                name="notice_user_pending",
            )
        ]

    def __str__(self) -> str:
        return f"notice of generation #{self.generation_id}"


class PushSubscription(models.Model):
    """A browser or installed app that accepted Web Push (one per device and browser)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"push to {self.user_id} ({self.user_agent[:40] or 'a browser'})"

    def as_subscription_info(self) -> dict[str, object]:
        """The shape pywebpush takes (the browser's PushSubscription.toJSON())."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
