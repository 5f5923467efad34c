from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from credits.actions import GRANT_TYPES, CreditError, add_credits, open_credit_account
from credits.admin import CreditTransactionInline
from credits.models import TransactionType
from wan_pwa.api_keys import revoke_api_key
from wan_pwa.models import ApiKey, User


class GrantCreditsForm(forms.Form):
    amount = forms.IntegerField(help_text="Whole credits; a negative adjustment removes them.")
    type = forms.ChoiceField(
        choices=[(t.value, t.label) for t in GRANT_TYPES], initial=TransactionType.ADJUSTMENT
    )
    reason = forms.CharField(max_length=200)

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("The amount must not be zero.")
        return amount


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class UserChangeAdminForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreationAdminForm
    form = UserChangeAdminForm
    list_display = ("username", "email", "balance", "is_staff", "is_active", "date_joined")
    list_select_related = ("credit_balance",)
    actions = ["grant_credits"]

    def get_inlines(self, request, obj):
        return [CreditTransactionInline] if obj else []  # a user being added has no ledger yet

    @admin.display(description="Credits", ordering="credit_balance__balance")
    def balance(self, user: User) -> int:
        balance = getattr(user, "credit_balance", None)
        return balance.balance if balance else 0

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            open_credit_account(obj)

    @admin.action(description="Grant or adjust credits of the selected users")
    def grant_credits(self, request: HttpRequest, queryset) -> HttpResponse | None:
        form = GrantCreditsForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done, refused = 0, []
            for user in queryset:
                try:
                    add_credits(
                        user,
                        form.cleaned_data["amount"],
                        type=form.cleaned_data["type"],
                        description=form.cleaned_data["reason"],
                        created_by=request.user,
                    )
                    done += 1
                except CreditError as error:
                    refused.append(f"{user.username}: {error}")
            if done:
                self.message_user(request, f"Credits changed for {done} user(s).", messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        return render(
            request,
            "admin/wan_pwa/grant_credits.html",
            {
                **self.admin_site.each_context(request),
                "title": "Grant or adjust credits",
                "form": form,
                "users": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


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

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected API keys", permissions=["view"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        for api_key in queryset:
            revoke_api_key(api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)
