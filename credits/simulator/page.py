"""The hosted pages: checkout (the pack or plan, its price and a card form, with test cards
listed) and the Customer Portal (change plan, cancel or resume, new card)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from credits.money import format_money

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f8;color:#1b1e24}
main{max-width:26rem;margin:2rem auto;background:#fff;padding:1.5rem;border-radius:12px;
box-shadow:0 2px 12px #0002}h1{font-size:1.2rem;margin:0 0 .25rem}
.total{font-size:2rem;font-weight:700;margin:.25rem 0 1rem}
label{display:block;margin:.75rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid #99a;
border-radius:6px}
button{margin-top:1rem;width:100%;padding:.75rem;font:inherit;font-weight:600;color:#fff;
background:#3346c8;border:0;border-radius:6px}.error{color:#a1121f;background:#fde8ea;padding:.5rem;
border-radius:6px}.note{color:#555;font-size:.85rem}
"""


PAYMENT_NOTE = """Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined;
4000 0000 0000 9995 has insufficient funds; 4000 0000 0000 1111 pays a few seconds later."""
SETUP_NOTE = """The card is saved for payments made later without you. Test cards:
4242 4242 4242 4242 and 4000 0025 0000 3155 pay; 4000 0027 6000 3184 always needs you to
authenticate; 4000 0000 0000 0341 and 4000 0000 0000 9995 are declined when charged;
4000 0000 0000 0002 cannot be saved."""


def _document(title: str, body: str) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} (Stripe simulator)</title><style>{STYLE}</style></head>
<body><main>{body}</main></body></html>"""


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%d %B %Y")


def portal_page(
    portal: dict[str, Any],
    subscriptions: list[dict[str, Any]],
    prices: list[dict[str, Any]],
    *,
    notice: str = "",
) -> str:
    action = f"/portal/{escape(portal['id'])}"
    back = escape(portal.get("return_url") or "")
    parts = [f'<p><a href="{back}">&larr; Return to the site</a></p>', "<h1>Your plan</h1>"]
    if notice:
        parts.append(f'<p class="error" role="alert">{escape(notice)}</p>')
    live = [sub for sub in subscriptions if sub["status"] != "canceled"]
    if not live:
        parts.append("<p>You have no subscription.</p>")
    for sub in live:
        item = sub["items"]["data"][0]
        price = item["price"]
        end = _day(item["current_period_end"])
        next_step = f"Ends on {end}." if sub["cancel_at_period_end"] else f"Renews on {end}."
        parts.append(
            f"<p><strong>{escape(price['nickname'] or price['id'])}</strong>,"
            f" {escape(format_money(price['unit_amount'], price['currency']))} a month"
            f" &middot; <span class=status>{escape(sub['status'])}</span>. {next_step}</p>"
        )
        options = "".join(
            f'<option value="{escape(p["id"])}"{" selected" if p["id"] == price["id"] else ""}>'
            f"{escape(p['nickname'])}, {escape(format_money(p['unit_amount'], p['currency']))}"
            "</option>"
            for p in prices
        )
        parts.append(
            f'<form method="post" action="{action}/plan"><label for="price">Plan</label>'
            f'<select id="price" name="price">{options}</select>'
            "<button type=submit>Update plan</button></form>"
        )
        flag, label = (
            ("resume", "Don't cancel")
            if sub["cancel_at_period_end"]
            else (
                "cancel",
                "Cancel plan",
            )
        )
        parts.append(
            f'<form method="post" action="{action}/{flag}"><button type=submit>{label}</button>'
            "</form>"
        )
    parts.append(
        f'<form method="post" action="{action}/card"><label for="card">New card</label>'
        '<input id="card" name="card" inputmode="numeric" placeholder="4242 4242 4242 4242"'
        " required><button type=submit>Update card</button></form>"
        '<p class="note">4000 0000 0000 0341 is saved, then declined when charged.</p>'
    )
    return _document("Customer portal", "".join(parts))


def checkout_page(session: dict[str, Any], *, error: str = "", number: str = "") -> str:
    items = "".join(
        f"<li>{escape(item['price_data']['product_data']['name'])}</li>"
        for item in session["_line_items"]
    )
    setup = session["mode"] == "setup"
    total = "" if setup else format_money(session["amount_total"], session["currency"])
    action = "Save card" if setup else f"Pay {total}"
    cancel = session.get("cancel_url") or ""
    if session["status"] != "open":
        body = f"<p>This checkout session is {escape(session['status'])}.</p>"
    else:
        body = f"""
<form method="post">
  {f'<p class="error" role="alert">{escape(error)}</p>' if error else ""}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" value="{escape(session.get("customer_email") or "")}">
  <label for="card">Card number</label>
  <input id="card" name="card" inputmode="numeric" autocomplete="cc-number" value="{escape(number)}"
    placeholder="4242 4242 4242 4242" required>
  <label for="expiry">Expiry</label><input id="expiry" name="expiry" value="12 / 34">
  <label for="cvc">CVC</label><input id="cvc" name="cvc" value="123">
  <button type="submit">{escape(action)}</button>
</form>
<p class="note">{SETUP_NOTE if setup else PAYMENT_NOTE}</p>"""
    back = f'<p><a href="{escape(cancel)}">&larr; Back</a></p>' if cancel else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Checkout (Stripe simulator)</title><style>{STYLE}</style></head>
<body><main>{back}<h1>{"Save a card" if setup else "Stripe simulator checkout"}</h1>
<ul>{items}</ul><p class="total">{escape(total)}</p>{body}</main></body></html>"""
