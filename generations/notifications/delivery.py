"""Sends a user's pending notices as one message, on each channel they chose."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django_tasks import task

from generations.lifecycle.scheduling import NOTIFY_PRIORITY, enqueue_later
from generations.models import Generation
from generations.notifications import push
from generations.notifications.models import GenerationNotice
from generations.notifications.summary import Summary, summarize

logger = logging.getLogger(__name__)


def _claim(user_id: int) -> list[GenerationNotice]:
    """The user's unsent notices, marked sent in one transaction: a concurrent or repeated run
    claims none of them again (at most once: a crash after this loses the message rather than
    sending it twice)."""
    with transaction.atomic():
        notices = list(
            GenerationNotice.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("generation", "user")
            .filter(user_id=user_id, sent_at__isnull=True)
            .order_by("created_at")
        )
        GenerationNotice.objects.filter(pk__in=[n.pk for n in notices]).update(
            sent_at=timezone.now()
        )
    return notices


def _waiting_for_the_rest(user_id: int) -> bool:
    """True while more of the user's generations are running and the oldest unsent notice is
    younger than NOTIFICATION_MAX_HOLD_SECONDS: several jobs are told once, when all are done,
    but nobody waits long for news they already have."""
    if not Generation.objects.filter(user_id=user_id).in_flight().exists():
        return False
    oldest = GenerationNotice.objects.filter(user_id=user_id, sent_at__isnull=True).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    if oldest is None:
        return False
    held = (timezone.now() - oldest).total_seconds()
    return held < settings.NOTIFICATION_MAX_HOLD_SECONDS


def notify_later(user_id: int) -> None:
    """Schedules the user's next message, in the caller's transaction (the one that wrote their
    notice), after the batching window."""
    enqueue_later(send_notifications, settings.NOTIFICATION_BATCH_SECONDS, user_id)


@task(priority=NOTIFY_PRIORITY)
def send_notifications(user_id: int) -> None:
    """Tells the user, in one message per channel, about their generations that ended since the
    last message (enqueued by each ending, after the batching window).

    Idempotent: each notice is claimed once, so a later run of the same batch sends nothing."""
    send_pending(user_id)


def send_pending(user_id: int) -> None:
    if _waiting_for_the_rest(user_id):
        # Checked again later: the user's own cancel of the last one enqueues nothing.
        notify_later(user_id)
        return
    notices = _claim(user_id)
    if not notices:
        return  # an earlier run of the batch sent them
    user = notices[0].user
    if user.is_suspended:
        return  # a suspended account is told nothing; these notices stay claimed, unsent
    summary = summarize([notice.generation for notice in notices])
    if user.notify_by_email and user.email:
        _email(user.email, summary)
    if user.notify_by_push:
        push.send_to_user(user, summary)


def _email(address: str, summary: Summary) -> None:
    text = "\n\n".join([summary.body, "\n".join(summary.lines)])
    try:
        send_mail(summary.title, text, None, [address])
    except Exception:  # any mail failure: the generation is unaffected, the toast still shows
        logger.exception("Could not e-mail %s about their generations", address)
