"""Credits' answers to the accounts' signals (accounts import no app, so they announce, and
credits listen). Connected when CreditsConfig.ready() imports this module."""

from __future__ import annotations

from django.dispatch import receiver

from credits.actions import open_credit_account
from wan_pwa.accounts.models import User
from wan_pwa.accounts.signals import user_created


@receiver(user_created, dispatch_uid="credits.open_account_of_new_user")
def open_account_of_new_user(sender: type[User], user: User, **kwargs: object) -> None:
    """The balance row and the sign-up bonus, inside the transaction creating the user: no user
    exists without them, and a failure here undoes the user too."""
    open_credit_account(user)
