"""How allauth fits the product: its mails go through the task worker, and its pages speak of
suspended accounts the way the rest of the app does."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from wan_pwa.accounts.signals import user_created
from wan_pwa.accounts.suspension import SUSPENDED_MESSAGE
from wan_pwa.accounts.tasks import mail_data, send_account_mail

CONFIRMATION_MAIL = "account/email/email_confirmation"


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Renders the mail here and enqueues its sending (wan_pwa/accounts/tasks.py)."""
        request = context.get("request") or allauth_context.request
        # allauth limits verification mails per address; this adds a limit per client address,
        # so one client cannot mail many addresses. Past it the mail is silently not sent: the
        # answer must look the same either way.
        if (
            request is not None
            and template_prefix.startswith(CONFIRMATION_MAIL)
            and not ratelimit.consume(request, action="confirm_email_ip")
        ):
            return
        # Without the sites framework allauth's mails name no site: they greet from ours.
        site = {"name": "Wan PWA", "domain": urlsplit(settings.SITE_URL).netloc}
        message = self.render_mail(template_prefix, email, {**context, "current_site": site})
        send_account_mail.enqueue(mail_data(message))

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        """allauth saves the new user itself, not through the manager: announce it here, in the
        creating transaction, as the manager does (the credit account opens with it)."""
        user = super().save_user(request, user, form, commit=False)
        if commit:
            with transaction.atomic():
                user.save()
                user_created.send(sender=type(user), user=user)
        return user

    def respond_user_inactive(self, request: HttpRequest, user: Any) -> HttpResponse:
        # Reached only with the account's right password: a suspended user is told why, not
        # sent to reset a password that is not the problem.
        messages.error(request, SUSPENDED_MESSAGE)
        return super().respond_user_inactive(request, user)
