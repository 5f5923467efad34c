"""Every write about notifications: the user's channels and their devices' subscriptions."""

from __future__ import annotations

from generations.notifications.models import PushSubscription
from wan_pwa.accounts.models import User


def set_preferences(user: User, *, by_email: bool, by_push: bool) -> None:
    user.notify_by_email = by_email
    user.notify_by_push = by_push
    user.save(update_fields=["notify_by_email", "notify_by_push"])


def subscribe_push(
    user: User, *, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Records a device; subscribing an endpoint again (a new key, or another account signed in
    on the same browser) replaces what was recorded for it."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
    )
    return subscription


def unsubscribe_push(user: User, endpoint: str) -> bool:
    """False when this user had no such subscription."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return bool(deleted)
