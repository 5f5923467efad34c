"""/metrics across processes: generations that a task worker ends, in its own process, show at
the next scrape of a separate web process, with no roll-up and no shared metrics directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from generations.models import Status
from generations.simulator import ReplicateSimulator
from tests.generations.background_stack import Stack, all_settled
from tests.generations.lifecycle_helpers import submit
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TOKEN = "processes-metrics-token"
FAILED = ("wan_generations_ended_total", (("model", "t2v-1.3B"), ("status", "failed")))


def scrape(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(
        f"{stack.env['SITE_URL']}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_generations_a_worker_ends_show_at_the_webs_next_scrape(
    tmp_path: Path, settings, make_user, simulator_factory: Callable[..., ReplicateSimulator]
):
    # No webhooks: the worker's watchdog learns each failure and ends the generation itself.
    simulator = simulator_factory(no_webhooks=True, fail_rate=1.0)
    stack = Stack(
        tmp_path / "processes",
        REPLICATE_BASE_URL=simulator.base_url,
        REPLICATE_API_TOKEN="test",
        REPLICATE_WEBHOOK_SECRET=simulator.webhook_secret,
        METRICS_TOKEN=TOKEN,
        # The roll-ups never run: only the rows can tell the web process.
        PERIODIC_JOB_PERIODS="rollup_generations=0,rollup_credits=0,rollup_webhooks=0",
    )
    # Submitted here, so the first watchdog check is scheduled with this process's delay.
    settings.WATCHDOG_FIRST_DELAY = 1
    user = make_user()
    generations = [submit(user) for _ in range(3)]
    try:
        stack.start_web()
        assert FAILED not in scrape(stack)
        stack.start_worker("w")
        ids = [generation.pk for generation in generations]
        wait_until(lambda: all_settled(ids), timeout=60, what="the worker to end the generations")
        assert {generation.status for generation in user.generations.all()} == {Status.FAILED}
        assert scrape(stack)[FAILED] == 3
    finally:
        stack.stop_all()
