from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString

from credits import buckets
from credits.actions import GRANT_TYPES, CreditError, add_credits, request_refund
from credits.models import (
    CreditPack,
    CreditTransaction,
    Order,
    Plan,
    PlanInvoice,
    Subscription,
    TransactionType,
)
from credits.money import format_money
from credits.stripe_gateway import PaymentsUnavailable
from wan_pwa.accounts.admin import UserAdmin, UserSection, recent_rows_table
from wan_pwa.accounts.models import User
from wan_pwa.http import AuthenticatedHttpRequest


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
        "order",
        "description",
        "created_by",
    )
    list_filter = ("type", "created_at")
    search_fields = ("user__username", "user__email", "description", "generation__id")
    list_select_related = ("user", "generation", "created_by")
    date_hierarchy = "created_at"
    show_full_result_count = False


class OrderLedgerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CreditTransaction
    fk_name = "order"
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
    verbose_name_plural = "Ledger rows of this order: its grant, clawbacks and returns"

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


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ("name", "credits", "price_display", "active", "position")
    list_editable = ("active", "position")
    list_filter = ("active", "currency")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        return {"currency": settings.BILLING_CURRENCY}

    @admin.display(description="Price", ordering="price")
    def price_display(self, pack: CreditPack) -> str:
        return format_money(pack.price, pack.currency)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans, edited by staff with the plan permissions. Once a plan has its Stripe price, its
    terms are fixed (Stripe prices cannot change and subscribers pay that one): add a new plan
    and retire the old one instead."""

    list_display = ("name", "credits", "price_display", "active", "position", "stripe_price_id")
    list_editable = ("active", "position")
    list_filter = ("active", "currency")
    readonly_fields = ("stripe_price_id",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        return {"currency": settings.BILLING_CURRENCY}

    def get_readonly_fields(self, request: HttpRequest, obj: Plan | None = None) -> list[str]:
        fixed = ["credits", "price", "currency"] if obj is not None and obj.stripe_price_id else []
        return [*fixed, "stripe_price_id"]

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        return False  # subscriptions and invoices keep their plan: retire it (active off)

    @admin.display(description="Price a month", ordering="price")
    def price_display(self, plan: Plan) -> str:
        return format_money(plan.price, plan.currency)


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """As Stripe's events describe them; changed in Stripe (or by the user in the portal)."""

    list_display = ("id", "user", "plan", "status", "current_period_end", "cancel_at_period_end")
    list_filter = ("status", "plan")
    search_fields = ("user__username", "user__email", "stripe_subscription_id")
    list_select_related = ("user", "plan")


@admin.register(PlanInvoice)
class PlanInvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "plan",
        "billing_reason",
        "period_start",
        "credits",
        "amount",
        "amount_refunded",
        "dispute_status",
    )
    list_filter = ("billing_reason", "plan")
    search_fields = ("user__username", "stripe_invoice_id", "payment_intent_id")
    list_select_related = ("user", "plan")


ORDER_COLUMNS = (
    "created_at",
    "credits",
    "amount_display",
    "status",
    "refunded_display",
    "dispute_status",
    "debt",
)


class OrderReadOnly(ReadOnlyAdminMixin):
    """Orders change only through Stripe's webhooks and the actions."""

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, order: Order) -> str:
        return format_money(order.amount, order.currency)

    @admin.display(description="Refunded", ordering="amount_refunded")
    def refunded_display(self, order: Order) -> str:
        return format_money(order.amount_refunded, order.currency) if order.amount_refunded else ""


@admin.register(Order)
class OrderAdmin(OrderReadOnly, admin.ModelAdmin):
    list_display = ("id", "user", *ORDER_COLUMNS)
    list_filter = ("status", "dispute_status", "currency", "created_at")
    search_fields = (
        "user__username",
        "user__email",
        "=checkout_session_id",
        "=payment_intent_id",
    )
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Order._meta.fields] + ["debt"]
    inlines = [OrderLedgerInline]
    actions = ["refund"]

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("credits.change_order")

    @admin.action(
        description="Refund on Stripe (the webhook takes the credits back)", permissions=["refund"]
    )
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        for order in queryset:
            try:
                refund_id = request_refund(order)
            except (CreditError, PaymentsUnavailable) as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, f"Order #{order.pk}: Stripe refund {refund_id} requested."
                )


class OrderInline(OrderReadOnly, admin.TabularInline):
    model = Order
    fields = ORDER_COLUMNS
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True
    verbose_name_plural = "Orders (newest first)"


@admin.display(description="Newest entries")
def recent_ledger(user: User) -> SafeString:
    return recent_rows_table(
        ("When", "Type", "Amount", "Balance after", "Generation", "Description"),
        user.credit_transactions.select_related("generation").order_by("-created_at", "-id"),
        lambda row: (
            row.created_at,
            row.get_type_display(),
            f"{row.amount:+d}",
            row.balance_after,
            row.generation_id or "",
            row.description,
        ),
        changelist="admin:credits_credittransaction_changelist",
        user=user,
        noun="ledger entries",
    )


@admin.display(description="Credits by bucket")
def credit_buckets(user: User) -> str:
    """What the balance is made of, in spending order."""
    return (
        "; ".join(
            f"{bucket.remaining:,} {bucket.label}, "
            + (
                f"expire {bucket.expires_at:%Y-%m-%d %H:%M}"
                if bucket.expires_at
                else "never expire"
            )
            for bucket in buckets.holding(user.pk)
        )
        or "None"
    )


@admin.display(description="Credits", ordering="credit_balance__balance")
def balance(user: User) -> int:
    balance = getattr(user, "credit_balance", None)
    return balance.balance if balance else 0


@admin.display(description="Debt", ordering="credit_balance__debt")
def debt(user: User) -> int:
    balance = getattr(user, "credit_balance", None)
    return balance.debt if balance else 0


def may_grant_credits(request: HttpRequest) -> bool:
    # Its own permission: changing a user is not enough to change their credits.
    return request.user.has_perm("credits.grant_credits")


@admin.action(
    description="Grant or adjust credits of the selected users", permissions=["grant_credits"]
)
def grant_credits(
    modeladmin: UserAdmin, request: AuthenticatedHttpRequest, queryset: QuerySet[User]
) -> HttpResponse | None:
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
            modeladmin.message_user(
                request, f"Credits changed for {done} user(s).", messages.SUCCESS
            )
        for line in refused:
            modeladmin.message_user(request, line, messages.ERROR)
        return None
    return modeladmin.user_action_form(
        request,
        queryset,
        form,
        action="grant_credits",
        title="Grant or adjust credits",
        explanation="Each change is one ledger entry recording you as its author.",
    )


# What credits knows of a user, on the one User admin (registered in credits/apps.py).
USER_SECTION = UserSection(
    "Credit ledger",
    (credit_buckets, recent_ledger),
    columns=(balance, debt),
    select_related=("credit_balance",),
    actions=(grant_credits,),
    permissions={"grant_credits": may_grant_credits},
    inlines=(OrderInline,),
)
