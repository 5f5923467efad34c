"""Amounts of money as Stripe counts them: whole units of the currency's smallest unit."""

from __future__ import annotations

from decimal import Decimal

# Stripe's zero-decimal currencies: 500 JPY is sent as 500, not 50000.
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)


def format_money(amount: int, currency: str) -> str:
    """`2000, "usd"` -> "20.00 USD"."""
    code = currency.upper()
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return f"{amount:,} {code}"
    return f"{Decimal(amount) / 100:,.2f} {code}"
