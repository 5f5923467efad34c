"""The back office for accounts: users and their API keys. The credits app extends the user
admin with balances, the ledger and grants (credits/admin.py), and the generations app with
their generations and the suspension (generations/admin.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from wan_pwa.accounts.api_keys import revoke_api_key
from wan_pwa.accounts.models import ApiKey, User
from wan_pwa.accounts.signals import user_created
from wan_pwa.accounts.suspension import reactivate_user

RECENT_ROWS = 10  # what a user's page lists of each kind; the link leads to all of them


def recent_rows_table(
    headers: Sequence[str],
    rows: QuerySet[Any],
    cells: Callable[[Any], Sequence[Any]],
    *,
    changelist: str,
    user: User,
    noun: str,
) -> SafeString:
    """A small read-only table of the user's newest rows (`rows` are theirs, newest first;
    `cells` makes a table row of one), with a link to the filtered list of all of them: a
    user's page stays one screen, and two queries a table, however busy they are."""
    total = rows.count()
    return render_to_string(
        "admin/wan_pwa/recent_rows.html",
        {
            "headers": headers,
            "rows": [cells(row) for row in rows[:RECENT_ROWS]],
            "empty": f"No {noun}.",
            "more_url": f"{reverse(changelist)}?user__id__exact={user.pk}" if total else "",
            "more_label": f"All {total} {noun} →",
        },
    )


# The stubs leave out the Meta that Django's user forms define.
class UserCreationAdminForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):  # type: ignore[name-defined]
        model = User


class UserChangeAdminForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):  # type: ignore[name-defined]
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    list_display: tuple[str, ...] = ("username", "email", "is_staff", "is_active", "date_joined")
    actions: list[str] = ["reactivate"]
    # Shown on an existing user's page, after Django's own fieldsets.
    extra_fieldsets: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("Account status", ("account_status",)),
        ("API keys", ("api_key_list",)),
    )

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, *((name, {"fields": fields}) for name, fields in self.extra_fieldsets)]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is None:
            return super().get_readonly_fields(request, obj)
        # Suspending cancels and refunds what is running, so is_active changes only through the
        # Suspend and Reactivate actions, never by ticking a box.
        extra = [field for _, fields in self.extra_fieldsets for field in fields]
        return [*super().get_readonly_fields(request, obj), "is_active", *extra]

    @admin.display(description="Status")
    def account_status(self, user: User) -> str:
        if user.is_suspended:
            return format_html(
                "<strong>Suspended</strong> {} by {}: {}",
                f"{user.suspended_at:%Y-%m-%d %H:%M} UTC",
                user.suspended_by or "a removed user",
                user.suspension_reason,
            )
        return "Active" if user.is_active else "Deactivated"

    @admin.display(description="Keys (newest first)")
    def api_key_list(self, user: User) -> SafeString:
        return recent_rows_table(
            ("Name", "Prefix", "Created", "Last used", "Revoked"),
            user.api_keys.order_by("-created_at", "-pk"),
            lambda key: (
                key.name,
                key.prefix,
                key.created_at,
                key.last_used_at or "never",
                key.revoked_at or "",
            ),
            changelist="admin:wan_pwa_apikey_changelist",
            user=user,
            noun="API keys",
        )

    def user_action_form(
        self,
        request: HttpRequest,
        queryset: QuerySet[User],
        form: forms.Form,
        *,
        action: str,
        title: str,
        explanation: str,
    ) -> HttpResponse:
        """The intermediate page of an action that asks for more (an amount, a reason)."""
        return render(
            request,
            "admin/wan_pwa/user_action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "intro": title,
                "explanation": explanation,
                "submit_label": title.split()[0],
                "form": form,
                "users": queryset,
                "action": action,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Reactivate the selected users", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = sum(reactivate_user(user) for user in queryset)
        self.message_user(
            request, f"Reactivated {done} of {queryset.count()} user(s).", messages.SUCCESS
        )

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The add form saves the model directly rather than through the manager, so it announces
        # the new user itself, in the same transaction.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            user_created.send(sender=User, user=obj)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see and revoke keys; nobody creates or edits one here (the key is shown only to its
    owner, once, on the Settings page)."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("name", "prefix", "user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoked, a key stays listed with when it was made, used and revoked

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # The pages are read-only for everyone, but revoking changes the key.
        return request.user.has_perm("wan_pwa.change_apikey")

    @admin.action(description="Revoke the selected API keys", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            revoke_api_key(api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
