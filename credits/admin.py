from __future__ import annotations

from django.contrib import admin

from credits.models import CreditTransaction


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
