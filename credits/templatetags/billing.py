"""Prices in templates: `{% credit_packs as packs %}` and `{% credit_plans as plans %}` (the
landing page lists the same rows as Billing) and `{{ amount|money:currency }}`."""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from credits.actions import purchasable_packs
from credits.models import CreditPack, Plan
from credits.money import format_money
from credits.subscriptions import available_plans

register = template.Library()


@register.simple_tag
def credit_packs() -> QuerySet[CreditPack]:
    return purchasable_packs()


@register.simple_tag
def credit_plans() -> QuerySet[Plan]:
    return available_plans()


@register.filter
def money(amount: int, currency: str) -> str:
    return format_money(amount, currency)
