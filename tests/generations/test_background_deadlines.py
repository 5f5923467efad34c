"""Deadlines: every prediction is created with Replicate's Cancel-After from the catalog; one
that never started by then ends `aborted`, one still running ends `canceled`, and either way the
generation fails with a clear reason and is refunded once. The simulator honours the header."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils.dateparse import parse_datetime
from pytest_django import Settings

from generations import catalog
from generations.failures import FailureReason
from generations.models import Status
from generations.replicate import predictions
from generations.simulator import ReplicateSimulator
from tests.generations.lifecycle_helpers import (
    PROMPT,
    assert_refunded_once,
    configure,
    make_due,
    prediction,
    run_tasks,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def start_simulator(
    settings: Settings, simulator_factory: Callable[..., ReplicateSimulator]
) -> Callable[..., ReplicateSimulator]:
    """Starts a simulator that sends no webhooks, with these options, and points the app at it."""

    def start(**options: Any) -> ReplicateSimulator:
        simulator = simulator_factory(frames=4, no_webhooks=True, **options)
        configure(settings, base_url=simulator.base_url, webhook_secret=simulator.webhook_secret)
        return simulator

    return start


def time_to_deadline(prediction: dict[str, Any]) -> timedelta:
    """From a prediction's creation to its deadline, as Replicate's JSON gives them."""
    created, deadline = (
        parse_datetime(prediction["created_at"]),
        parse_datetime(prediction["deadline"]),
    )
    assert created is not None and deadline is not None, prediction
    return deadline - created


def test_every_deadline_leaves_room_for_the_run_and_ends_before_our_own_give_up(settings):
    for model in catalog.MODELS.values():
        for variant in model.variants:
            # A model billed by run time is priced for its deadline: room for a slow run only.
            factor = 2 if variant.billed_seconds_cap is not None else 3
            assert variant.deadline_seconds >= factor * variant.typical_run_seconds
            assert variant.deadline_seconds < settings.GENERATION_MAX_AGE


def test_predictions_are_created_with_the_catalogs_deadline(start_simulator, make_user):
    simulator = start_simulator(duration=0.3)
    generation = submit(make_user(), resolution="720p", model_key="t2v-14B")
    run_tasks(max_tasks=1)
    generation.refresh_from_db()
    created = simulator.prediction(generation.prediction_id)
    deadline = time_to_deadline(created)
    expected = catalog.get_model("t2v-14B").variant("720p").deadline_seconds
    assert abs(deadline - timedelta(seconds=expected)) < timedelta(seconds=1)


@pytest.mark.parametrize(
    ("cancel_after", "replicate_status", "reason"),
    [
        # Starting takes 2 s: a 1 s deadline passes in the queue, a 3 s one while it runs.
        # Replicate aborts the first; it cancels the second, which is a failure for us.
        (1, "aborted", FailureReason.EXPIRED_BEFORE_START),
        (3, "canceled", FailureReason.DEADLINE),
    ],
)
def test_a_deadline_reached_fails_the_generation_with_a_refund(
    start_simulator, settings, make_user, cancel_after, replicate_status, reason
):
    simulator = start_simulator(duration=12, min_cancel_after=0)
    settings.REPLICATE_CANCEL_AFTER = cancel_after
    generation = submit(make_user())
    run_tasks(max_tasks=1)
    generation.refresh_from_db()
    ended = simulator.wait_for(generation.prediction_id, timeout=cancel_after + 3)
    assert ended["status"] == replicate_status
    make_due("watch_generation")
    run_tasks()
    assert_refunded_once(generation, Status.FAILED, reason)
    assert generation.replicate_status == replicate_status


def test_a_cancel_before_the_deadline_is_still_a_cancel():
    in_time = predictions.parse(
        prediction(
            status="canceled",
            deadline="2026-01-01T10:05:00Z",
            completed_at="2026-01-01T10:01:00Z",
        )
    )
    assert in_time.status == Status.CANCELED
    late = predictions.parse(
        prediction(
            status="canceled",
            deadline="2026-01-01T10:05:00Z",
            completed_at="2026-01-01T10:05:00.2Z",
        )
    )
    assert (late.status, late.failure_reason) == (Status.FAILED, FailureReason.DEADLINE)


@pytest.mark.parametrize(
    ("header", "status", "seconds"),
    [
        ("5m", 201, 300),
        ("1h30m45s", 201, 5445),
        ("90", 201, 90),
        ("4s", 400, None),
        ("soon", 400, None),
        ("", 400, None),
    ],
)
def test_the_simulator_reads_cancel_after_as_replicate_does(header, status, seconds):
    with ReplicateSimulator(duration=0.3, frames=4) as simulator:
        answer = httpx.post(
            f"{simulator.base_url}/v1/models/wan-video/wan-2.1-1.3b/predictions",
            json={"input": {"prompt": PROMPT}},
            headers={"Authorization": "Bearer test", "Cancel-After": header},
        )
    assert answer.status_code == status, answer.text
    if seconds is not None:
        body = answer.json()
        deadline = time_to_deadline(body)
        assert deadline == timedelta(seconds=seconds)
