"""The webhooks' card and target on the staff dashboard (registered with
wan_pwa.analytics.dashboard in `ready()`)."""

from __future__ import annotations

from wan_pwa.analytics.dashboard import Card, Figures, Target, ratio_target

WEBHOOK_RATE_TARGET = 0.99


def webhook_rate(data: Figures) -> float | None:
    """Of the generations Replicate ran that ended, the share whose end a webhook told us."""
    ends = data.totals.get("webhooks.generation_end", {})
    total = sum(ends.values())
    return ends.get("webhook", 0) / total if total else None


def webhooks_card(data: Figures) -> Card:
    ends = data.totals.get("webhooks.generation_end", {})
    return Card(
        "Webhooks",
        [
            ("Ends learned from a webhook", ends.get("webhook", 0)),
            ("Ends learned otherwise (watchdog, reconcile, command)", ends.get("other", 0)),
            (
                "Rejected deliveries (bad signature or time)",
                data.total("events.webhook_rejected"),
            ),
            ("Duplicate deliveries", data.total("events.webhook_duplicate")),
        ],
    )


def webhook_delivery_target(data: Figures) -> Target:
    return ratio_target("Webhook delivery", webhook_rate(data), WEBHOOK_RATE_TARGET)
