"""The back office for accounts: users and their API keys.

There is one User admin. What it shows and does beyond Django's own comes from sections that the
apps register from their `AppConfig.ready()` (`register_user_section`): the accounts' status and
API keys here, the credits' balance, ledger, orders and grants, the generations' list and the
suspension. Sections are read at each request, so the admin names no app above wan_pwa.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import InlineModelAdmin
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
from wan_pwa.accounts.deletion import DeletionRefused, delete_account
from wan_pwa.accounts.models import ApiKey, User
from wan_pwa.accounts.signals import user_created
from wan_pwa.accounts.suspension import reactivate_user
from wan_pwa.http import AuthenticatedHttpRequest
from wan_pwa.registry import Registry

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


# (model admin, request, selected users); the request may be a narrower type of the app's.
UserAction = Callable[..., HttpResponse | None]


@dataclass(frozen=True)
class UserSection:
    """What one app adds to the User admin. Display functions take the user and carry
    `@admin.display` (description, ordering); actions are `@admin.action` functions taking
    (model admin, request, users)."""

    title: str = ""  # the fieldset on an existing user's page, "" for none
    fields: tuple[Callable[[User], object], ...] = ()  # read-only, in that fieldset
    columns: tuple[Callable[[User], object], ...] = ()  # the user list's, after the e-mail
    select_related: tuple[str, ...] = ()  # what the columns read, joined in the list's query
    actions: tuple[UserAction, ...] = ()
    # An action's `permissions=["x"]` is checked by `permissions["x"](request)`.
    permissions: dict[str, Callable[[HttpRequest], bool]] = field(default_factory=dict)
    inlines: tuple[type[InlineModelAdmin], ...] = ()  # on an existing user's page


USER_SECTIONS: Registry[UserSection] = Registry("user admin section")


def register_user_section(name: str, section: UserSection) -> None:
    """Called from an app's `ready()`; sections show in order of registration (INSTALLED_APPS)."""
    USER_SECTIONS.register(name, section)


@admin.display(description="Status")
def account_status(user: User) -> str:
    if user.is_deleted:
        return f"Deleted {user.deleted_at:%Y-%m-%d %H:%M} UTC"
    if user.is_suspended:
        return format_html(
            "<strong>Suspended</strong> {} by {}: {}",
            f"{user.suspended_at:%Y-%m-%d %H:%M} UTC",
            user.suspended_by or "a removed user",
            user.suspension_reason,
        )
    return "Active" if user.is_active else "Deactivated"


@admin.display(description="Keys (newest first)")
def api_key_list(user: User) -> SafeString:
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


@admin.action(description="Reactivate the selected users", permissions=["change"])
def reactivate(modeladmin: UserAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
    done = sum(reactivate_user(user) for user in queryset)
    modeladmin.message_user(
        request, f"Reactivated {done} of {queryset.count()} user(s).", messages.SUCCESS
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    list_display = ("username", "email", "is_staff", "is_active", "date_joined")

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # An account is erased ("Delete the selected accounts"), never removed with its row:
        # that keeps the ledger and orders for the books and clears files and sessions too.
        return False

    @property  # the sections' actions, as registered by the time of the request
    def actions(self) -> list[UserAction]:
        return [action for section in USER_SECTIONS for action in section.actions]

    @actions.setter
    def actions(self, value: object) -> None:
        raise AttributeError("the User admin's actions come from the registered sections")

    def __getattr__(self, name: str) -> Any:
        # `has_<x>_permission` for a permission an action of a section asks for.
        if name.startswith("has_") and name.endswith("_permission"):
            permission = name.removeprefix("has_").removesuffix("_permission")
            for section in USER_SECTIONS:
                if permission in section.permissions:
                    return section.permissions[permission]
        raise AttributeError(name)

    def get_list_display(self, request: HttpRequest) -> Any:
        username, email, *rest = super().get_list_display(request)
        columns = [column for section in USER_SECTIONS for column in section.columns]
        return [username, email, *columns, *rest]

    def get_list_select_related(self, request: HttpRequest) -> Any:
        return [related for section in USER_SECTIONS for related in section.select_related]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type]:
        # A user being added has none of the sections' rows yet.
        return [inline for section in USER_SECTIONS for inline in section.inlines] if obj else []

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # Shown on an existing user's page, after Django's own fieldsets.
        extra = [
            (section.title, {"fields": section.fields})
            for section in USER_SECTIONS
            if section.title and section.fields
        ]
        return [*fieldsets, *extra]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> Any:
        if obj is None:
            return super().get_readonly_fields(request, obj)
        # Suspending cancels and refunds what is running, so is_active changes only through the
        # Suspend and Reactivate actions, never by ticking a box.
        extra = [display for section in USER_SECTIONS for display in section.fields]
        return [*super().get_readonly_fields(request, obj), "is_active", *extra]

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

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # The add form saves the model directly rather than through the manager, so it announces
        # the new user itself, in the same transaction.
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            user_created.send(sender=User, user=obj)


class ConfirmDeletionForm(forms.Form):
    confirm = forms.BooleanField(label="I understand that this cannot be undone", required=True)


@admin.action(
    description="Delete the selected accounts (cancels and refunds, erases personal data)",
    permissions=["erase"],
)
def erase_accounts(
    modeladmin: UserAdmin, request: AuthenticatedHttpRequest, queryset: QuerySet[User]
) -> HttpResponse | None:
    form = ConfirmDeletionForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return modeladmin.user_action_form(
            request,
            queryset,
            form,
            action="erase_accounts",
            title="Delete accounts",
            explanation=(
                "What they have queued or running is canceled and refunded, their files are "
                "removed from storage, their API keys and sessions end, and their names, e-mail "
                "addresses and prompts are erased. Their ledger and orders stay, under an "
                "anonymous inactive user. This cannot be undone."
            ),
        )
    for user in queryset.order_by("pk"):
        name = user.username
        try:
            outcome = delete_account(user, by=request.user)
        except DeletionRefused as error:
            modeladmin.message_user(request, f"{name}: {error}", messages.ERROR)
            continue
        state = "Deleted" if outcome.newly_deleted else "Finished deleting"
        modeladmin.message_user(
            request,
            f"{state} {name} (now {user.username}); {outcome.canceled} generation(s) canceled "
            f"and refunded, {outcome.sessions_ended} session(s) ended.",
            messages.SUCCESS,
        )
    return None


STATUS_SECTION = UserSection("Account status", (account_status,), actions=(reactivate,))
# Its own permission: erasing an account is more than changing it.
DELETION_SECTION = UserSection(
    actions=(erase_accounts,),
    permissions={"erase": lambda request: request.user.has_perm("wan_pwa.erase_user")},
)
API_KEYS_SECTION = UserSection("API keys", (api_key_list,))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see and revoke keys; nobody creates or edits one here (the key is shown only to its
    owner, once, on the Settings page)."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("name", "prefix", "user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "scopes",
        "monthly_credit_cap",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
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
