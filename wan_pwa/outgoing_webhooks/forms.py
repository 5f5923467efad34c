"""The Settings page's form for a webhook endpoint; the checks are the actions' own."""

from __future__ import annotations

from django import forms

from wan_pwa.outgoing_webhooks.models import DESCRIPTION_MAX_LENGTH, URL_MAX_LENGTH, EventType


class EndpointForm(forms.Form):
    url = forms.CharField(label="URL", max_length=URL_MAX_LENGTH)
    description = forms.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False)
    events = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
