"""The app as a browser meets it: served on localhost by pytest-django's live server, with the
task worker in a thread and the Replicate simulator, driven through Debian's Chromium."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
from django.db import connections
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from credits.simulator import StripeSimulator
from generations.simulator import ReplicateSimulator
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS
from tests.credits.stripe_support import WEBHOOK_SECRET, pack
from tests.generations.lifecycle_helpers import task_worker


@pytest.fixture(scope="module")
def playwright(django_db_setup: None) -> Iterator[Playwright]:
    """Playwright for one test module. Its sync API keeps an event loop running on the main
    thread while it lives, which Django takes for async code; the ORM calls the tests make
    there are plain synchronous code, so Django is told to allow them for that time only."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: `make chromium` (apt-get install chromium) installs it."
        )
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


class TaskWorker:
    """django-tasks-db's own worker loop, in a thread, stopped cleanly at teardown."""

    def __init__(self) -> None:
        self.worker = task_worker("browser-tests", batch=False, interval=0.05)
        self.thread = threading.Thread(target=self._run, name="task-worker", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        finally:
            connections.close_all()

    def start(self) -> TaskWorker:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.worker.running = False
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the task worker did not stop"


@pytest.fixture
def stripe_live(app: str, settings: Settings) -> Iterator[StripeSimulator]:
    """The Stripe simulator delivering signed webhooks to the live server, as `make run` wires
    it."""
    simulator = StripeSimulator(
        secret=WEBHOOK_SECRET, webhook_url=f"{app}/api/webhooks/stripe", async_delay=2.0
    ).start()
    settings.STRIPE_SECRET_KEY = "sk_test_browser"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = simulator.base_url
    for credits in (100, 500):
        pack(credits)  # the migration's packs, flushed by an earlier transactional test
    yield simulator
    simulator.stop()


@pytest.fixture
def app(
    live_server: LiveServer,
    settings: Settings,
    transactional_db: None,
    simulator_factory: Callable[..., ReplicateSimulator],
) -> Iterator[str]:
    """The live server's URL, with Replicate simulated and background tasks running."""
    simulator = simulator_factory(
        duration=1.5, frames=16, webhook_throttle=0.2, webhook_retry_delays=(0.2, 0.5)
    )
    settings.SITE_URL = live_server.url
    settings.REPLICATE_BASE_URL = simulator.base_url
    settings.REPLICATE_API_TOKEN = "browser-tests"
    settings.REPLICATE_WEBHOOK_SECRET = simulator.webhook_secret
    # The live server serves static files from the apps' folders, by their plain names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    worker = TaskWorker().start()
    try:
        yield live_server.url
    finally:
        worker.stop()


class PolicyWatch:
    """Collects Content-Security-Policy violations and page errors reported by Chromium."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def attach(self, page: Page) -> None:
        page.on(
            "console",
            lambda message: (
                self.problems.append(message.text)
                if "Content Security Policy" in message.text or "Refused to" in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))


@pytest.fixture
def new_page(browser: Browser, app: str) -> Iterator[Callable[..., Page]]:
    """Opens pages in fresh browser contexts (separate cookies); fails on any CSP violation."""
    contexts: list[BrowserContext] = []
    watch = PolicyWatch()

    def open_page(viewport: ViewportSize = DESKTOP) -> Page:
        context = browser.new_context(base_url=app, viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        page.on("dialog", lambda dialog: dialog.accept())  # confirmations say yes
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not watch.problems, watch.problems


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()
