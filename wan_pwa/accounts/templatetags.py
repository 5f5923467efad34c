"""`{% api_keys_for request.user as keys %}`: the API keys section queries its own data, so any
page can include it without preparing a context. `{% api_key_scope_choices form as choices %}`:
the scope checkboxes, ticked as the form was sent, or the default for a new key."""

from __future__ import annotations

from django import template

from wan_pwa.accounts.forms import ApiKeyForm
from wan_pwa.accounts.models import ApiKey, Scope

register = template.Library()


@register.simple_tag
def api_keys_for(user) -> list[ApiKey]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(ApiKey.objects.active().filter(user=user))


# A new key can make and read videos and read its credits; buying credits is ticked on purpose.
DEFAULT_SCOPES = (Scope.GENERATIONS_READ, Scope.GENERATIONS_WRITE, Scope.CREDITS_READ)


@register.simple_tag
def api_key_scope_choices(form: object = None) -> list[tuple[str, str, bool]]:
    """(value, label, ticked) per scope; `form` is the ApiKeyForm sent back, if any."""
    if isinstance(form, ApiKeyForm) and form.is_bound:
        ticked = set(form["scopes"].value() or ())
    else:
        ticked = set(DEFAULT_SCOPES)
    return [(value, label, value in ticked) for value, label in Scope.choices]
