"""The webhooks' part of deleting an account (accounts.deletion, through `deleting_account`):
Replicate's events carry the prompt and inputs of each generation, so their payloads go. Stripe's
events are left to their retention (WEBHOOK_EVENT_RETENTION_DAYS): fulfilment may still read
them. Connected when WebhooksConfig.ready() imports this module."""

from __future__ import annotations

from django.dispatch import receiver

from wan_pwa.accounts.models import User
from wan_pwa.accounts.signals import deleting_account
from webhooks.models import WebhookEvent

ERASED_PAYLOAD = {"erased": "the account was deleted"}


@receiver(deleting_account, dispatch_uid="webhooks.erase_replicate_payloads")
def erase_replicate_payloads(sender: type[User], user: User, **kwargs: object) -> None:
    WebhookEvent.objects.filter(generation__user=user).update(payload=ERASED_PAYLOAD)
