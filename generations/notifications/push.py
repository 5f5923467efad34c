"""Web Push to every device a user subscribed, signed with the site's VAPID key."""

from __future__ import annotations

import json
import logging

import requests
from django.conf import settings
from pywebpush import WebPushException, webpush

from generations.notifications.models import PushSubscription
from generations.notifications.summary import Summary
from wan_pwa.accounts.models import User

logger = logging.getLogger(__name__)

# A message still undelivered after a day is stale: the push service drops it.
TTL_SECONDS = 24 * 60 * 60
# The push service answers these for a subscription that no longer exists.
GONE_STATUSES = (404, 410)
TIMEOUT_SECONDS = 10


def is_configured() -> bool:
    return bool(settings.WEBPUSH_VAPID_PUBLIC_KEY and settings.WEBPUSH_VAPID_PRIVATE_KEY)


def payload(summary: Summary) -> str:
    """What the service worker shows (templates/wan_pwa/sw.js)."""
    return json.dumps(
        {"title": summary.title, "body": summary.body, "url": summary.url, "tag": "generations"}
    )


def send_to_user(user: User, summary: Summary) -> None:
    if not is_configured():
        return
    data = payload(summary)
    for subscription in PushSubscription.objects.filter(user=user):
        _send(subscription, data)


def _send(subscription: PushSubscription, data: str) -> None:
    try:
        webpush(
            subscription_info=subscription.as_subscription_info(),
            data=data,
            vapid_private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY,
            # A fresh dict each time: pywebpush adds the audience and expiry to it.
            vapid_claims={"sub": settings.WEBPUSH_CONTACT},
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE_STATUSES:
            subscription.delete()  # the browser unsubscribed or the subscription expired
        else:
            logger.warning("Web Push to %s failed: %s", subscription.endpoint, error)
    except (requests.RequestException, ValueError) as error:  # unreachable, or a bad key
        logger.warning("Web Push to %s failed: %s", subscription.endpoint, error)
