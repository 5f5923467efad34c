"""Debian's Chromium as the browser tests drive it, and the steps every test takes."""

from __future__ import annotations

import time
from pathlib import Path

from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from playwright.sync_api import BrowserContext, Page, Playwright, ViewportSize

from tests.factories import PASSWORD
from tests.fixtures.mailbox import Mailbox, link_in

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".test-artifacts" / "screenshots"
TIMEOUT_MS = 20_000  # the longest any step may take; a whole video takes about three seconds


def persistent_context(
    playwright: Playwright, app: str, profile: Path, viewport: ViewportSize = DESKTOP
) -> BrowserContext:
    """A normal (not incognito) profile: what installability and service-worker push need."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir=profile,
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        base_url=app,
        viewport=viewport,
    )


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    fill_log_in_form(page, username, password)
    page.wait_for_url("**/create/")


def fill_log_in_form(
    page: Page, username: str, password: str = PASSWORD, totp: TOTP | None = None
) -> None:
    """The log-in form, and the authenticator app's code when the account has one."""
    page.locator("#id_login").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    if totp is not None:
        page.wait_for_url("**/accounts/2fa/authenticate/")
        secret = totp.instance.data["secret"]
        page.locator("#id_code").fill(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
        page.get_by_role("button", name="Sign In").click()


def sign_up_and_verify(page: Page, mailbox: Mailbox, username: str) -> None:
    """Signs up, then follows the link the worker mailed to the test's SMTP server."""
    email = f"{username}@example.com"
    page.goto("/accounts/signup/")
    page.locator("#id_email").fill(email)
    page.locator("#id_username").fill(username)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/create/")
    page.goto(link_in(mailbox.wait_for(email)[-1], "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/create/")
