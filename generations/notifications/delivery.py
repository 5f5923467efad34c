"""Sends a user's pending notices as one message, on each channel they chose."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

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


def send_pending(user_id: int) -> None:
    notices = _claim(user_id)
    if not notices:
        return  # an earlier run of the batch sent them
    user = notices[0].user
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
