"""Web Push to every device a user subscribed, signed with the site's VAPID key."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor, wait

import requests
from django.conf import settings
from py_vapid import VapidException
from pywebpush import WebPushException, webpush

from credits.low_balance import Notice
from generations.notifications.actions import MAX_PUSH_SUBSCRIPTIONS
from generations.notifications.models import PushSubscription
from generations.notifications.summary import Summary
from wan_pwa.accounts.models import User
from wan_pwa.outbound import TOTAL_TIMEOUT_SECONDS, GuardedSession

logger = logging.getLogger(__name__)

# A message still undelivered after a day is stale: the push service drops it.
TTL_SECONDS = 24 * 60 * 60
# The push service answers these for a subscription that no longer exists.
GONE_STATUSES = (404, 410)
# Every device is sent to at once; a request ends by the guard's total timeout.
SEND_DEADLINE_SECONDS = TOTAL_TIMEOUT_SECONDS + 2


def is_configured() -> bool:
    return bool(settings.WEBPUSH_VAPID_PUBLIC_KEY and settings.WEBPUSH_VAPID_PRIVATE_KEY)


def payload(summary: Summary) -> str:
    """What the service worker shows (templates/wan_pwa/sw.js)."""
    return json.dumps(
        {"title": summary.title, "body": summary.body, "url": summary.url, "tag": "generations"}
    )


def send_to_user(user: User, summary: Summary) -> None:
    _send_to_devices(user, payload(summary))


def send_low_balance_notice(user: User, notice: Notice) -> None:
    """The low-balance alert (credits/low_balance.py), to the same devices."""
    data = {"title": notice.title, "body": notice.body, "url": notice.url, "tag": "credits"}
    _send_to_devices(user, json.dumps(data))


def _send_to_devices(user: User, data: str) -> None:
    """Pushes to each of the user's devices at once, and returns by SEND_DEADLINE_SECONDS
    whatever their push services do, so no user's endpoints hold the worker."""
    if not is_configured():
        return
    newest = PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk")
    subscriptions = list(newest[:MAX_PUSH_SUBSCRIPTIONS])
    if not subscriptions:
        return
    pool = ThreadPoolExecutor(max_workers=len(subscriptions), thread_name_prefix="webpush")
    try:
        sends = {
            pool.submit(_send, subscription, data): subscription for subscription in subscriptions
        }
        done, late = wait(sends, timeout=SEND_DEADLINE_SECONDS)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for future in late:
        logger.warning("Web Push to %s did not finish in time", sends[future].endpoint)
    gone = [sends[future].pk for future in done if future.result()]
    # Here, not in the sending threads: those never touch the database.
    PushSubscription.objects.filter(pk__in=gone).delete()


def _send(subscription: PushSubscription, data: str) -> bool:
    """Sends one message through the outbound guard; True when the push service says the
    subscription is gone (the browser unsubscribed or it expired)."""
    try:
        with GuardedSession() as session:
            webpush(
                subscription_info=subscription.as_subscription_info(),
                data=data,
                vapid_private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY,
                # A fresh dict each time: pywebpush adds the audience and expiry to it.
                vapid_claims={"sub": settings.WEBPUSH_CONTACT},
                ttl=TTL_SECONDS,
                requests_session=session,
            )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE_STATUSES:
            return True
        logger.warning("Web Push to %s failed: %s", subscription.endpoint, error)
    # Refused by the guard, unreachable, a bad key, an address VAPID cannot name.
    except (requests.RequestException, ValueError, VapidException) as error:
        logger.warning("Web Push to %s failed: %s", subscription.endpoint, error)
    return False
