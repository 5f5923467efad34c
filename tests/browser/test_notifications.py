"""Notifications in Chromium: the service worker shows a pushed message (handed over through CDP,
as no push service is reachable here), and Settings' button asks permission and subscribes with
the server's VAPID key."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import BrowserContext, CDPSession, Page, Playwright, expect
from pytest_django import Settings

from tests.browser.chromium import (
    SCREENSHOTS,
    log_in,
    persistent_context,
)
from tests.waiting import wait_until
from wan_pwa.accounts.models import User

pytestmark = pytest.mark.browser

# Records what the page asks the push manager for, then lets the real call go on (Chromium
# has no push service to reach here, so the subscription itself is refused after that).
RECORD_SUBSCRIBE = """
(() => {
  if (typeof PushManager === "undefined") return;
  const original = PushManager.prototype.subscribe;
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.__subscribeCalls = (window.__subscribeCalls || []).concat([{
      userVisibleOnly: options.userVisibleOnly,
      key: btoa(String.fromCharCode(...key)),
    }]);
    return original.call(this, options);
  };
})();
"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def vapid_public(settings: Settings) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    settings.WEBPUSH_VAPID_PUBLIC_KEY = b64url(public)
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(key.private_numbers().private_value.to_bytes(32))
    return public


@pytest.fixture
def context(playwright: Playwright, app: str, tmp_path) -> Iterator[BrowserContext]:
    """A normal profile (service workers and push), with notifications allowed for the app."""
    context = persistent_context(playwright, app, tmp_path / "profile")
    context.grant_permissions(["notifications"], origin=app)
    context.add_init_script(RECORD_SUBSCRIBE)
    yield context
    context.close()


def settings_page(context: BrowserContext, user: User) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    log_in(page, user.username)
    page.goto("/settings/#notifications")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    return page


def registration_id(session: CDPSession, scope: str) -> str:
    found: dict[str, str] = {}

    def updated(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration["isDeleted"]:
                found["id"] = registration["registrationId"]

    session.on("ServiceWorker.workerRegistrationUpdated", updated)
    session.send("ServiceWorker.enable")

    def registered() -> bool:
        session.send("Runtime.evaluate", {"expression": "1"})  # lets the events arrive
        return "id" in found

    wait_until(registered, timeout=10, what="the app's service worker registration")
    return found["id"]


def test_the_service_worker_shows_a_pushed_message_that_links_to_the_video(
    context: BrowserContext, app: str, user: User, vapid_public: bytes
):
    page = settings_page(context, user)
    session = context.new_cdp_session(page)
    message = {
        "title": "3 videos are ready",
        "body": "Open your history to watch them.",
        "url": f"{app}/history/",
        "tag": "generations",
    }
    # Headless Chromium may take a shown notification away again within moments, so the page
    # watches from before the push and keeps the first notifications it sees. A push the
    # browser drops on its way to the worker (seen under load) is delivered again, up to three
    # times; the tag makes a second delivery replace the first.
    watch = """(seconds) => navigator.serviceWorker.ready.then(async (r) => {
      for (const end = Date.now() + seconds * 1000; Date.now() < end; ) {
        const all = await r.getNotifications();
        if (all.length) {
          return all.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data,
                                  icon: n.icon}));
        }
        await new Promise((wait) => setTimeout(wait, 10));
      }
      return [];
    })"""
    registration = registration_id(session, app + "/")
    shown: list[dict[str, Any]] = []
    for _delivery in range(3):
        page.evaluate(f"() => {{ window.firstNotifications = ({watch})(4); }}")
        session.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": app + "/", "registrationId": registration, "data": json.dumps(message)},
        )
        shown = page.evaluate("() => window.firstNotifications")
        if shown:
            break
    assert shown == [
        {
            "title": "3 videos are ready",
            "body": "Open your history to watch them.",
            "tag": "generations",
            "data": {"url": f"{app}/history/"},
            "icon": f"{app}/static/icons/icon-192.png",
        }
    ]


def test_the_settings_button_asks_permission_and_subscribes_with_the_vapid_key(
    context: BrowserContext, user: User, vapid_public: bytes
):
    page = settings_page(context, user)
    button = page.get_by_role("button", name="Turn on notifications on this device")
    expect(button).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#notifications").screenshot(path=SCREENSHOTS / "settings-notifications.png")

    button.click()

    page.wait_for_function("() => (window.__subscribeCalls || []).length === 1")
    (call,) = page.evaluate("() => window.__subscribeCalls")
    assert call["userVisibleOnly"] is True
    assert base64.b64decode(call["key"]) == vapid_public
    # Permission granted, the page waits for the browser's push service (none reachable here).
    expect(page.locator("[data-push-status]")).to_have_text("Turning notifications on…")
    expect(button).to_be_disabled()
