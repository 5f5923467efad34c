"""Settings > Developers in Chromium on a 360 px phone, with the task worker running: add an
endpoint (its secret shown once), send a test event that reaches a receiver on 127.0.0.1
signed with that secret, read the delivery on the endpoint's page and send it again."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django import Settings

from tests.browser.chromium import log_in
from tests.fixtures.local_servers import Answer, StartServer
from tests.waiting import wait_until
from tests.wan_pwa.webhook_receiver import event_of, signatures_valid_for

pytestmark = pytest.mark.browser
NARROW: ViewportSize = {"width": 360, "height": 740}


def test_add_an_endpoint_send_a_test_event_and_send_it_again_on_a_phone(
    new_page: Callable[..., Page], make_user, settings: Settings, start_server: StartServer
):
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    receiver = start_server(Answer(200, body=b"ok"))
    make_user("wendy")
    page = new_page(NARROW)
    log_in(page, "wendy")
    page.goto("/settings/#webhooks")
    section = page.locator("#webhooks")
    section.get_by_label("Endpoint URL").fill(receiver.url + "/hooks")
    section.get_by_role("button", name="Add endpoint").click()
    shown = page.locator("#webhook-secret-value")  # the section swapped in by htmx
    expect(shown).to_be_visible()
    secret = shown.input_value()
    assert secret.startswith("whsec_")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]

    page.get_by_role("button", name=f"Send a test event: {receiver.url}/hooks").click()
    wait_until(lambda: len(receiver.received) == 1, timeout=10, what="the test event")
    assert signatures_valid_for(receiver.received[0], secret)
    assert event_of(receiver.received[0])["type"] == "webhook.test"

    page.locator("#webhooks").get_by_role("link", name=f"{receiver.url}/hooks").click()
    deliveries = page.locator("[data-testid=webhook-deliveries]")
    expect(deliveries).to_contain_text("webhook.test")
    expect(deliveries).to_contain_text("Delivered")
    expect(deliveries).to_contain_text("200")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    page.get_by_role("button", name="Send again").click()
    wait_until(lambda: len(receiver.received) == 2, timeout=10, what="the event sent again")
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
