"""Every write about notifications: the user's channels and their devices' subscriptions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from generations.notifications.models import PushSubscription
from wan_pwa import outbound
from wan_pwa.accounts.models import User
from wan_pwa.errors import DomainError

# Devices per user: subscribing one more replaces the oldest, so nobody makes us send to many.
MAX_PUSH_SUBSCRIPTIONS = 10


class EndpointInUse(DomainError):
    code = "push_endpoint_in_use"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "This browser already gets notifications for another account. Turn them off "
            "there first."
        )


def set_preferences(user: User, *, by_email: bool, by_push: bool) -> None:
    user.notify_by_email = by_email
    user.notify_by_push = by_push
    user.save(update_fields=["notify_by_email", "notify_by_push"])


def subscribe_push(
    user: User, *, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Records a device; subscribing its endpoint again (a new key) updates it.

    The endpoint must pass the outbound guard (a public https host), else ValidationError. It
    stays with the account that first saved it: another account posting it changes nothing and
    gets EndpointInUse (which says nothing of whose it is). Beyond MAX_PUSH_SUBSCRIPTIONS, the
    user's oldest subscriptions are deleted.
    """
    try:
        outbound.resolve(endpoint)
    except outbound.RefusedURL as error:
        raise ValidationError({"endpoint": [f"This push endpoint is refused: {error}"]}) from None
    with transaction.atomic():
        # The user's row lock serializes their subscribes, so the count below holds.
        User.objects.select_for_update().only("pk").get(pk=user.pk)
        subscription, created = PushSubscription.objects.get_or_create(
            endpoint=endpoint,
            defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
        )
        if subscription.user_id != user.pk:
            raise EndpointInUse()
        if not created:
            subscription.p256dh, subscription.auth = p256dh, auth
            subscription.user_agent = user_agent[:300]
            subscription.save(update_fields=["p256dh", "auth", "user_agent"])
        oldest = PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")[
            MAX_PUSH_SUBSCRIPTIONS:
        ]
        PushSubscription.objects.filter(pk__in=list(oldest.values_list("pk", flat=True))).delete()
    return subscription


def unsubscribe_push(user: User, endpoint: str) -> bool:
    """False when this user had no such subscription."""
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return bool(deleted)
