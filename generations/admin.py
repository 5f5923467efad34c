"""The back office for generations: read-only records, changed only through the actions."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from generations.actions.errors import GenerationConflict
from generations.actions.sharing import feature_generation, unfeature_generation
from generations.actions.transitions import check_refund_generation
from generations.failures import FailureReason
from generations.lifecycle import watchdog
from generations.lifecycle.transitions import cancel_generation
from generations.models import Generation
from generations.suspension import suspend_user
from wan_pwa.accounts.admin import UserAdmin, UserSection, recent_rows_table
from wan_pwa.accounts.models import User
from wan_pwa.accounts.suspension import SuspensionError
from wan_pwa.http import AuthenticatedHttpRequest


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "model_key",
        "resolution",
        "status",
        "progress",
        "cost",
        "created_at",
        "prediction_id",
    )
    list_filter = (
        "status",
        "failure_reason",
        "model_key",
        "kind",
        "feature_consent",
        ("featured_at", admin.EmptyFieldListFilter),
        "created_at",
    )
    search_fields = ("prompt", "user__username", "user__email", "=prediction_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["refund", "cancel", "resync", "feature", "unfeature"]
    fieldsets = (
        (None, {"fields": ("user", "kind", "model_key", "resolution", "aspect_ratio", "cost")}),
        (
            "Input",
            {
                "fields": (
                    "prompt",
                    "negative_prompt",
                    "seed",
                    "options",
                    "input_image",
                    "input_audio",
                    "operation",
                    "parent",
                    "input_video",
                    "input_mask",
                    "input_end_image",
                )
            },
        ),
        (
            "Lifecycle",
            {
                "fields": (
                    "status",
                    "progress",
                    "failure_reason",
                    "failure_detail",
                    "prediction_id",
                    "replicate_status",
                    "output_url",
                    "submit_attempts",
                    "sent_to_replicate",
                    "video",
                    "poster",
                    "created_at",
                    "submitted_at",
                    "started_at",
                    "completed_at",
                )
            },
        ),
        ("Credits and webhooks", {"fields": ("ledger_entries", "webhook_events")}),
        (
            "Other",
            {
                "fields": (
                    "retried_from",
                    "api_key",
                    "idempotency_key",
                    "starred",
                    "share_token",
                    "feature_consent",
                    "featured_at",
                    "deleted_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # Every field: statuses, files and credits change only through the actions.
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # View-only pages: a form save would write every column over concurrent webhooks.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the ledger points at generations; users delete theirs softly

    def has_manage_permission(self, request: HttpRequest) -> bool:
        """Who may run the actions (refund, cancel, re-sync)."""
        return request.user.has_perm("generations.change_generation")

    @admin.display(description="Sent to Replicate")
    def sent_to_replicate(self, generation: Generation) -> str:
        """The input the last submit attempt sent (inline files as their digest)."""
        if generation.replicate_input is None:
            return "nothing yet"
        return format_html("<pre>{}</pre>", json.dumps(generation.replicate_input, indent=2))

    def has_feature_permission(self, request: HttpRequest) -> bool:
        """Who may choose the home page's videos."""
        return request.user.has_perm("generations.feature_generation")

    @admin.display(description="Ledger entries")
    def ledger_entries(self, generation: Generation) -> str:
        rows = generation.credit_transactions.order_by("id")
        return (
            format_html_join(
                ", ",
                '<a href="{}">{} {}</a>',
                (
                    (
                        reverse("admin:credits_credittransaction_change", args=[row.pk]),
                        row.get_type_display(),
                        f"{row.amount:+d}",
                    )
                    for row in rows
                ),
            )
            or "none"
        )

    @admin.display(description="Webhook events")
    def webhook_events(self, generation: Generation) -> str:
        url = reverse("admin:webhooks_webhookevent_changelist")
        count = generation.webhook_events.count()
        return format_html(
            '<a href="{}?generation__id__exact={}">{} received</a>', url, generation.pk, count
        )

    def _each(self, request: HttpRequest, queryset: QuerySet, verb: str, apply) -> None:
        done = 0
        for generation in queryset.select_related("user"):
            try:
                note = apply(generation)
            except GenerationConflict as error:
                self.message_user(request, f"#{generation.pk}: {error.message}", messages.WARNING)
                continue
            if note:
                self.message_user(request, f"#{generation.pk}: {note}")
            done += 1
        self.message_user(request, f"{verb} {done} of {queryset.count()} generation(s).")

    @admin.action(
        description="Refund (failed or canceled ones that lack a refund)",
        permissions=["manage"],
    )
    def refund(self, request: HttpRequest, queryset: QuerySet) -> None:
        def apply(generation: Generation) -> str:
            refund = check_refund_generation(generation, reason=f"refunded by {request.user}")
            return f"refunded {refund.amount} credits" if refund else "already refunded"

        self._each(request, queryset, "Refunded", apply)

    @admin.action(description="Cancel (and refund)", permissions=["manage"])
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> None:
        def apply(generation: Generation) -> str:
            cancel_generation(generation, reason=FailureReason.CANCELED_BY_STAFF)
            return ""

        self._each(request, queryset, "Canceled", apply)

    @admin.action(description="Re-sync from Replicate", permissions=["manage"])
    def resync(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, "Checked", watchdog.check)

    @admin.action(
        description="Feature on the home page (shared videos whose owners allow it)",
        permissions=["feature"],
    )
    def feature(self, request: HttpRequest, queryset: QuerySet) -> None:
        def apply(generation: Generation) -> str:
            feature_generation(generation)
            return ""

        self._each(request, queryset, "Featured", apply)

    @admin.action(description="Stop featuring on the home page", permissions=["feature"])
    def unfeature(self, request: HttpRequest, queryset: QuerySet) -> None:
        def apply(generation: Generation) -> str:
            unfeature_generation(generation)
            return ""

        self._each(request, queryset, "Took off the home page", apply)


class SuspendForm(forms.Form):
    reason = forms.CharField(
        max_length=200, help_text="Kept on the account and shown to staff, not to the user."
    )


@admin.display(description="Newest generations")
def recent_generations(user: User) -> SafeString:
    return recent_rows_table(
        ("#", "Created", "Model", "Status", "Cost", "Prompt"),
        Generation.objects.filter(user=user).order_by("-created_at", "-pk"),
        lambda generation: (
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:generations_generation_change", args=[generation.pk]),
                generation.pk,
            ),
            generation.created_at,
            generation.model_key,
            generation.get_status_display(),
            generation.cost,
            generation.prompt[:80],
        ),
        changelist="admin:generations_generation_changelist",
        user=user,
        noun="generations",
    )


@admin.action(
    description="Suspend the selected users (cancels and refunds what they have running)",
    permissions=["change"],
)
def suspend(
    modeladmin: UserAdmin, request: AuthenticatedHttpRequest, queryset: QuerySet[User]
) -> HttpResponse | None:
    form = SuspendForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return modeladmin.user_action_form(
            request,
            queryset,
            form,
            action="suspend",
            title="Suspend accounts",
            explanation=(
                "They can no longer log in or use their API keys; every generation they have "
                "queued or running is canceled and refunded."
            ),
        )
    for user in queryset:
        try:
            outcome = suspend_user(user, by=request.user, reason=form.cleaned_data["reason"])
        except SuspensionError as error:
            modeladmin.message_user(request, f"{user.username}: {error}", messages.ERROR)
            continue
        state = "Suspended" if outcome.newly_suspended else "Already suspended:"
        modeladmin.message_user(
            request,
            f"{state} {user.username}; {outcome.canceled} generation(s) canceled and refunded.",
            messages.SUCCESS,
        )
    return None


# The user's generations and the suspension, which cancels and refunds what they have running,
# on the one User admin (registered in generations/apps.py).
USER_SECTION = UserSection("Generations", (recent_generations,), actions=(suspend,))
