"""`{% webpush_public_key %}`: the key browsers subscribe with (empty while push is off)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def webpush_public_key() -> str:
    if not (settings.WEBPUSH_VAPID_PUBLIC_KEY and settings.WEBPUSH_VAPID_PRIVATE_KEY):
        return ""
    return settings.WEBPUSH_VAPID_PUBLIC_KEY
