"""allauth's models in the admin, held to the admin's rules: every action declares its
permission, rows are deleted only where that is the point, and no secret is shown."""

from __future__ import annotations

from typing import Any

from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin as AllauthAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.http import HttpRequest

admin.site.unregister(EmailAddress)
admin.site.unregister(Authenticator)


@admin.register(EmailAddress)
class EmailAddressAdmin(AllauthEmailAddressAdmin):
    """Addresses are their users' to add, change and remove. Staff may mark one verified (for
    support); that goes through allauth's email_confirmed like a followed link, so the sign-up
    bonus keeps its rules (once per address, no disposable domains)."""

    readonly_fields = ("user", "email", "primary", "verified")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


EmailAddressAdmin.make_verified.allowed_permissions = ("change",)


@admin.register(Authenticator)
class AuthenticatorAdmin(AllauthAuthenticatorAdmin):
    """A second factor, shown without its secret. Deleting one is how staff help someone who lost
    both the device and the recovery codes: the account then logs in with its password alone
    (and, if staff, is sent to set up a new factor)."""

    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
