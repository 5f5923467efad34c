"""Every page as a person sees it: visitors, members and staff, at 360, 390, 768 and 1280 px.
A page fails on sideways overflow, text cut off at a side, a console error (CSP violations
included), or layout shift above 0.1 while it loads. Screenshots of each go to
.test-artifacts/pages/. One browser, one tab per role, re-sized between widths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page

from credits.actions import fulfil_checkout
from credits.models import Order
from credits.stripe_gateway import CheckoutSession
from generations.actions.sharing import enable_sharing, feature_generation, set_feature_consent
from generations.failures import FailureReason
from generations.models import Status
from tests.browser.chromium import SCREENSHOTS, fill_log_in_form, log_in
from tests.credits.stripe_support import pack
from tests.factories import make_generation, make_staff
from wan_pwa.outgoing_webhooks.actions import create_endpoint, send_test_event

pytestmark = pytest.mark.browser

WIDTHS = (360, 390, 768, 1280)
HEIGHT = 800
MAX_LAYOUT_SHIFT = 0.1
SHOTS = SCREENSHOTS.parent / "pages"

# Layout shift and sideways checks, injected before any of a page's own code runs.
PAGE_CHECKS = Path(__file__).with_name("page_checks.js")


class Tab:
    """One role's tab, collecting console errors (CSP violations are errors too)."""

    def __init__(self, page: Page, role: str) -> None:
        self.page = page
        self.role = role
        self.errors: list[str] = []
        page.add_init_script(path=PAGE_CHECKS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def problems_on(self, name: str, url: str, width: int) -> list[str]:
        self.errors.clear()
        response = self.page.goto(url, wait_until="load")
        assert response is not None
        expected = 404 if name == "not-found" else 200
        problems = [] if response.status == expected else [f"answered {response.status}"]
        if expected == 404:  # Chromium logs the page's own status as an error
            self.errors = [error for error in self.errors if "status of 404" not in error]
        # Video posters and lazily loaded images settle, then shifts are read.
        self.page.wait_for_function(
            "() => [...document.images].every(image => image.complete || image.loading === 'lazy')"
        )
        self.page.wait_for_timeout(150)
        problems += self.page.evaluate("window.__pageChecks.sideways()")
        shift = self.page.evaluate("window.__pageChecks.shift")
        if shift["total"] > MAX_LAYOUT_SHIFT:
            moved = ", ".join(dict.fromkeys(shift["moved"]))
            problems.append(f"layout shift {shift['total']:.3f} while loading ({moved})")
        problems += [f"console: {error}" for error in self.errors]
        self.page.screenshot(path=SHOTS / f"{self.role}-{name}-{width}.png", full_page=True)
        return [f"{self.role} {name} ({url}) at {width}px: {problem}" for problem in problems]


def paid_order(user, credits: int) -> Order:
    """An order paid through the same action Stripe's webhook calls."""
    bought = pack(credits)
    session_id = f"cs_page_{user.pk}"
    order = Order.objects.create(
        user=user,
        pack=bought,
        credits=bought.credits,
        amount=bought.price,
        currency=bought.currency,
        checkout_session_id=session_id,
    )
    session = CheckoutSession(
        id=session_id,
        url="",
        status="complete",
        payment_status="paid",
        payment_intent=f"pi_page_{user.pk}",
        amount_total=bought.price,
        currency=bought.currency,
        client_reference_id=str(order.pk),
    )
    assert fulfil_checkout(session)
    return order


def test_every_page_fits_every_width_without_errors_or_shifts(
    new_page: Callable[..., Page], make_user
):
    member = make_user("mila")
    totp = make_staff("root")[1]
    shared = make_generation(
        member, prompt="A lighthouse on a cliff as a storm rolls in", playable=True
    )
    feature_generation(set_feature_consent(enable_sharing(shared), True))
    failed = make_generation(
        member,
        status=Status.FAILED,
        prompt="A city skyline made of stacked books",
        failure_reason=FailureReason.PROVIDER_ERROR,
    )
    make_generation(member, status=Status.PROCESSING, prompt="A hot-air balloon over dunes")
    make_generation(
        member, model_key="i2v-14B", prompt="The painted sea starts to move", playable=True
    )
    take = make_generation(
        member,
        model_key="vace-14B",
        prompt="A red balloon drifts into the corner of the frame",
        operation="region",
        parent=shared,
        input_video="sources/x.mp4",
        playable=True,
        charged=False,
    )
    order = paid_order(member, 100)
    endpoint = create_endpoint(
        member, "https://hooks.example.com/a/rather/long/path/for/our/webhooks", ["order.paid"]
    )[0]
    send_test_event(endpoint)

    pages = {
        "visitor": {
            "landing": "/",
            "login": "/accounts/login/",
            "signup": "/accounts/signup/",
            "password-reset": "/accounts/password/reset/",
            "shared": f"/s/{shared.share_token}/",
            "offline": "/offline/",
            "terms": "/terms/",
            "privacy": "/privacy/",
            "not-found": "/no-such-page/",
            "api-errors": "/api/docs/errors/",
        },
        "member": {
            "create": "/create/",
            "remix": f"/create/?remix={shared.pk}",
            "history": "/history/",
            "video": f"/generations/{shared.pk}/",
            "failed-video": f"/generations/{failed.pk}/",
            "edit": f"/generations/{shared.pk}/edit/edit/",
            "edit-region": f"/generations/{shared.pk}/edit/region/",
            "edit-clip": "/edit/",
            "take": f"/generations/{take.pk}/",
            "settings": "/settings/",
            "billing": "/settings/billing/",
            "receipt": f"/settings/billing/orders/{order.pk}/receipt/",
            "api-keys": "/settings/api-keys/",
            "developers": "/settings/developers/",
            "webhook-endpoint": f"/settings/developers/webhooks/{endpoint.pk}/",
            "delete-account": "/settings/delete/",
            "password-change": "/accounts/password/change/",
            "email": "/accounts/email/",
            "two-factor": "/accounts/2fa/",
            "api-docs": "/api/docs/",
        },
        "staff": {
            "admin": "/admin/",
            "dashboard": "/admin/dashboard/",
            "admin-users": "/admin/wan_pwa/user/",
            "admin-user": f"/admin/wan_pwa/user/{member.pk}/change/",
            "admin-generations": "/admin/generations/generation/",
            "admin-generation": f"/admin/generations/generation/{failed.pk}/change/",
            "admin-orders": "/admin/credits/order/",
            "admin-ledger": "/admin/credits/credittransaction/",
            "admin-webhook-events": "/admin/wan_pwa/webhookevent/",
        },
    }
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role, urls in pages.items():
        tab = Tab(new_page(), role)
        if role == "member":
            log_in(tab.page, "mila")
        elif role == "staff":
            tab.page.goto("/admin/login/")  # the site's log-in, then the second factor
            fill_log_in_form(tab.page, "root", totp=totp)
            tab.page.wait_for_url("**/admin/")
        for width in WIDTHS:
            tab.page.set_viewport_size({"width": width, "height": HEIGHT})
            for name, url in urls.items():
                problems += tab.problems_on(name, url, width)
    assert not problems, "\n".join(problems)
