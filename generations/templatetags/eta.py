"""`{% eta_label generation %}`: when an in-flight generation is likely ready (generations.eta)."""

from __future__ import annotations

from django import template

from generations import eta
from generations.models import Generation

register = template.Library()


@register.simple_tag
def eta_label(generation: Generation) -> str:
    return eta.label(eta.remaining_seconds(generation))
