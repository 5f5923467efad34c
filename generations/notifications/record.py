"""Marks a generation's ending for notification, inside the transaction that ends it."""

from __future__ import annotations

from generations.models import Generation, Status
from generations.notifications.models import GenerationNotice

# Endings worth telling: a generation the user canceled themselves is not news to them.
NOTIFIED_STATUSES = (Status.SUCCEEDED, Status.FAILED)


def record_ending(generation: Generation) -> bool:
    """Writes the generation's notice; True when it did, and the user's next message is then
    to be scheduled (generations.notifications.delivery.notify_later) in the same transaction.

    Called only by the transition that ends the generation, under its row lock, so this runs
    once per generation (the unique generation on the notice guards that too) and commits with
    the ending or not at all. One insert and nothing else: the sending happens in a task after
    NOTIFICATION_BATCH_SECONDS, where a failure cannot touch the generation, and endings close
    together make one message.
    """
    if generation.status not in NOTIFIED_STATUSES:
        return False
    GenerationNotice.objects.create(generation=generation, user_id=generation.user_id)
    return True
