from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from credits.actions import GRANT_TYPES, CreditError, add_credits
from credits.models import CreditTransaction, TransactionType
from wan_pwa.accounts.admin import UserAdmin
from wan_pwa.accounts.models import User


class ReadOnlyAdminMixin:
    """The ledger is append-only: nobody, not even a superuser, edits it by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditTransaction)
class CreditTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "type",
        "amount",
        "balance_after",
        "generation",
        "description",
        "created_by",
    )
    list_filter = ("type", "created_at")
    search_fields = ("user__username", "user__email", "description", "generation__id")
    list_select_related = ("user", "generation", "created_by")
    date_hierarchy = "created_at"
    show_full_result_count = False


class CreditTransactionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditTransaction
    fk_name = "user"
    fields = (
        "created_at",
        "type",
        "amount",
        "balance_after",
        "generation",
        "description",
        "created_by",
    )
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    max_num = 0
    show_change_link = False
    verbose_name_plural = "Credit ledger (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("generation", "created_by")


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


class UserWithCreditsAdmin(UserAdmin):
    """The accounts' user admin plus what credits knows of a user: the balance, the read-only
    ledger and the grant action. Accounts import no app, so credits extends their admin."""

    list_display = ("username", "email", "balance", "is_staff", "is_active", "date_joined")
    list_select_related = ("credit_balance",)
    actions = ["grant_credits"]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list[type]:
        return [CreditTransactionInline] if obj else []  # a user being added has no ledger yet

    @admin.display(description="Credits", ordering="credit_balance__balance")
    def balance(self, user: User) -> int:
        balance = getattr(user, "credit_balance", None)
        return balance.balance if balance else 0

    @admin.action(description="Grant or adjust credits of the selected users")
    def grant_credits(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
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
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )


# Importing the accounts' admin above registered their UserAdmin; this one takes its place.
admin.site.unregister(User)
admin.site.register(User, UserWithCreditsAdmin)
