"""What Settings posts about notifications: the channels, and a browser's push subscription."""

from __future__ import annotations

import base64
import binascii

from django import forms

from wan_pwa.accounts.models import User

# A P-256 public key uncompressed (0x04, x, y) and the 16-byte auth secret of RFC 8291.
P256DH_LENGTH = 65
AUTH_LENGTH = 16


def _base64url(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise forms.ValidationError("Not base64url.") from error


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["notify_by_email", "notify_by_push"]
        labels = {
            "notify_by_email": "E-mail me when a video is ready or failed, or credits run low",
            "notify_by_push": "Notify my subscribed devices",
        }


class PushSubscriptionForm(forms.Form):
    """The browser's PushSubscription.toJSON(), flattened: endpoint, keys.p256dh, keys.auth."""

    endpoint = forms.URLField(max_length=2000, assume_scheme="https")
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)

    def clean_p256dh(self) -> str:
        key = self.cleaned_data["p256dh"]
        raw = _base64url(key)
        if len(raw) != P256DH_LENGTH or raw[0] != 4:
            raise forms.ValidationError("Not an uncompressed P-256 public key.")
        return key

    def clean_auth(self) -> str:
        secret = self.cleaned_data["auth"]
        if len(_base64url(secret)) != AUTH_LENGTH:
            raise forms.ValidationError("The auth secret must be 16 bytes.")
        return secret
