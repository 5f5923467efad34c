"""Small pieces of page markup: inline SVG icons, toast actions, status tones, and the numbers
pages quote (prices, limits, the sign-up bonus) from the settings and catalog that own them."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from allauth.account.models import EmailAddress
from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from generations import catalog, selectors
from generations.models import Generation

register = template.Library()

# Hand-written 24x24 stroke icons, inline so the pages need no icon font or sprite request.
ICONS: dict[str, str] = {
    "edit": '<path d="M12 20h9"/><path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z"/>',
    "star": '<polygon points="12 2 15.09 8.26 22 9.27 17 14.14 18.18 21.02 12 17.77 5.82 21.02 '
    '7 14.14 2 9.27 8.91 8.26 12 2"/>',
    "download": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/>'
    '<polyline points="7 10 12 15 17 10"/><line x1="12" y1="15" x2="12" y2="3"/>',
    "trash": '<polyline points="3 6 5 6 21 6"/><path d="M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 '
    '1-2-2V6m3 0V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2"/>',
    "x": '<line x1="18" y1="6" x2="6" y2="18"/><line x1="6" y1="6" x2="18" y2="18"/>',
    "retry": '<polyline points="1 4 1 10 7 10"/><path d="M3.51 15a9 9 0 1 0 2.13-9.36L1 10"/>',
    "remix": '<polyline points="16 3 21 3 21 8"/><line x1="4" y1="20" x2="21" y2="3"/>'
    '<polyline points="21 16 21 21 16 21"/><line x1="15" y1="15" x2="21" y2="21"/>'
    '<line x1="4" y1="4" x2="9" y2="9"/>',
    "link": '<path d="M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71"/>'
    '<path d="M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71"/>',
    "upload": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/>'
    '<polyline points="17 8 12 3 7 8"/><line x1="12" y1="3" x2="12" y2="15"/>',
    "plus": '<line x1="12" y1="5" x2="12" y2="19"/><line x1="5" y1="12" x2="19" y2="12"/>',
    "film": '<rect x="2" y="2" width="20" height="20" rx="2.18"/><line x1="7" y1="2" x2="7" '
    'y2="22"/><line x1="17" y1="2" x2="17" y2="22"/><line x1="2" y1="12" x2="22" y2="12"/>'
    '<line x1="2" y1="7" x2="7" y2="7"/><line x1="2" y1="17" x2="7" y2="17"/>'
    '<line x1="17" y1="17" x2="22" y2="17"/><line x1="17" y1="7" x2="22" y2="7"/>',
    "settings": '<line x1="4" y1="21" x2="4" y2="14"/><line x1="4" y1="10" x2="4" y2="3"/>'
    '<line x1="12" y1="21" x2="12" y2="12"/><line x1="12" y1="8" x2="12" y2="3"/>'
    '<line x1="20" y1="21" x2="20" y2="16"/><line x1="20" y1="12" x2="20" y2="3"/>'
    '<line x1="1" y1="14" x2="7" y2="14"/><line x1="9" y1="8" x2="15" y2="8"/>'
    '<line x1="17" y1="16" x2="23" y2="16"/>',
    "copy": '<rect x="9" y="9" width="13" height="13" rx="2"/><path d="M5 15H4a2 2 0 0 '
    '1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"/>',
    "bolt": '<polygon points="13 2 3 14 12 14 11 22 21 10 12 10 13 2"/>',
    "info": '<circle cx="12" cy="12" r="10"/><line x1="12" y1="16" x2="12" y2="12"/>'
    '<line x1="12" y1="8" x2="12.01" y2="8"/>',
    "alert": '<circle cx="12" cy="12" r="10"/><line x1="12" y1="8" x2="12" y2="12"/>'
    '<line x1="12" y1="16" x2="12.01" y2="16"/>',
    "check": '<path d="M22 11.08V12a10 10 0 1 1-5.93-9.14"/>'
    '<polyline points="22 4 12 14.01 9 11.01"/>',
    "logout": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/>'
    '<polyline points="16 17 21 12 16 7"/><line x1="21" y1="12" x2="9" y2="12"/>',
    "image": '<rect x="3" y="3" width="18" height="18" rx="2"/>'
    '<circle cx="8.5" cy="8.5" r="1.5"/><polyline points="21 15 16 10 5 21"/>',
    "text": '<polyline points="4 7 4 4 20 4 20 7"/><line x1="9" y1="20" x2="15" y2="20"/>'
    '<line x1="12" y1="4" x2="12" y2="20"/>',
    "offline": '<line x1="1" y1="1" x2="23" y2="23"/><path d="M16.72 11.06A10.94 10.94 0 0 1 19 '
    '12.55"/><path d="M5 12.55a10.94 10.94 0 0 1 5.17-2.39"/><path d="M10.71 5.05A16 16 0 0 1 '
    '22.58 9"/><path d="M1.42 9a15.91 15.91 0 0 1 4.7-2.88"/><path d="M8.53 16.11a6 6 0 0 1 '
    '6.95 0"/><line x1="12" y1="20" x2="12.01" y2="20"/>',
}

TOAST_ICONS = {"success": "check", "error": "alert", "warning": "alert", "info": "info"}
STATUS_TONES = {
    "queued": "neutral",
    "starting": "progress",
    "processing": "progress",
    "succeeded": "success",
    "failed": "danger",
    "canceled": "neutral",
}


@register.simple_tag
def icon(name: str, css_class: str = "") -> SafeString:
    """An inline SVG icon; decorative, so hidden from screen readers (the control has a label)."""
    classes = f"icon {css_class}".strip()
    return format_html(
        '<svg class="{}" viewBox="0 0 24 24" width="20" height="20" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        'aria-hidden="true" focusable="false">{}</svg>',
        classes,
        mark_safe(ICONS[name]),  # noqa: S308 (constant markup from this module)
    )


@register.filter
def toast_icon(level_tag: str) -> str:
    return TOAST_ICONS.get(level_tag, "info")


@register.filter
def status_tone(status: str) -> str:
    return STATUS_TONES.get(status, "neutral")


def retry_action_tag(generation) -> str:
    """The message tag that gives a toast a Retry button for `generation`."""
    return f"action-retry-{generation.pk}"


@register.filter
def toast_action(message) -> dict[str, str | int]:
    """The action a toast offers, read from its message's extra tags: retry or get credits."""
    for tag in (message.extra_tags or "").split():
        if tag == "action-billing":
            return {"kind": "billing"}
        if tag.startswith("action-retry-") and tag.removeprefix("action-retry-").isdigit():
            return {"kind": "retry", "pk": int(tag.removeprefix("action-retry-"))}
    return {}


@register.simple_tag
def new_idempotency_key() -> str:
    """A fresh key for a form whose double submission must act once (retry buttons)."""
    return uuid.uuid4().hex


@register.simple_tag
def signup_bonus() -> int:
    """The credits every new account gets."""
    return settings.SIGNUP_BONUS_CREDITS


@register.simple_tag
def has_verified_email(user) -> bool:
    """Whether the user verified an address, which is what earns the sign-up bonus."""
    return EmailAddress.objects.filter(user_id=user.pk, verified=True).exists()


@register.simple_tag
def signup_bonus_videos() -> int:
    """How many of the cheapest videos the sign-up bonus pays for."""
    return settings.SIGNUP_BONUS_CREDITS // catalog.CHEAPEST_COST


@register.simple_tag
def prices(kind: str) -> list[tuple[str, list[int]]]:
    """Each resolution of the models of `kind` with their credits: `[("480p", [5, 10]), ...]`."""
    return catalog.prices(kind)


@register.simple_tag
def price_table() -> list[tuple[catalog.CatalogModel, list[tuple[str, int]]]]:
    """Every model with the credits of a five-second clip at each resolution."""
    return catalog.price_table()


@register.simple_tag
def featured_videos() -> list[Generation]:
    """The shared videos staff chose for the home page (tags may read across apps; the
    project's views may not import this one)."""
    return selectors.featured_videos()


@register.simple_tag
def remix_for_visitor(prompt: str) -> str:
    """Sign-up, then the create page with this prompt in the field."""
    create = f"{reverse('create')}?{urlencode({'prompt': prompt})}"
    return f"{reverse('account_signup')}?{urlencode({'next': create})}"


@register.simple_tag
def length_priced_versions() -> str:
    """The Wan versions of the create page whose price follows the clip's length: "Wan 2.2,
    2.5 and 2.7"."""
    return catalog.versions(m for m in catalog.creating_models() if m.priced_by_length)


@register.simple_tag
def catalog_summary() -> str:
    """What the service does, naming the models and limits the catalog offers today."""
    return catalog.summary()


@register.simple_tag
def prompt_length() -> str:
    return f"{catalog.PROMPT_MIN_LENGTH} to {catalog.PROMPT_MAX_LENGTH}"
