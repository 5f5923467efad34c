"""What Billing posts about the low-balance alert and auto-refill."""

from __future__ import annotations

from django import forms

from credits.models import MAX_REFILLS_PER_MONTH, MAX_THRESHOLD


class LowBalanceForm(forms.Form):
    threshold = forms.IntegerField(
        label="Tell me when my balance falls below",
        required=False,
        min_value=1,
        max_value=MAX_THRESHOLD,
        help_text="Credits. Leave it empty for the cost of the cheapest video.",
    )


class AutoRefillForm(forms.Form):
    enabled = forms.BooleanField(label="Refill automatically", required=False)
    threshold = forms.IntegerField(
        label="When my balance falls below", min_value=1, max_value=MAX_THRESHOLD
    )
    pack = forms.IntegerField(label="Buy this pack", min_value=1)
    monthly_max = forms.IntegerField(
        label="At most this many times a month", min_value=1, max_value=MAX_REFILLS_PER_MONTH
    )
