"""`{% api_keys_for request.user as keys %}`: the API keys section queries its own data, so any
page can include it without preparing a context."""

from __future__ import annotations

from django import template

from wan_pwa.accounts.models import ApiKey

register = template.Library()


@register.simple_tag
def api_keys_for(user) -> list[ApiKey]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(ApiKey.objects.active().filter(user=user))
