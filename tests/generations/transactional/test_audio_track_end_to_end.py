"""An audio track from the app to the simulator over real HTTP (a live server for the webhooks)
and back as a video."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from generations.models import Status
from generations.simulator import ReplicateSimulator
from tests.generations.lifecycle_helpers import configure, run_tasks, submit
from tests.generations.test_audio_track import voice
from tests.waiting import wait_until


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seconds", [4.0, 30.0])  # sent inline, and through the files API
def test_a_track_goes_from_the_app_to_the_simulator_and_the_video_is_made(
    simulator_factory: Callable[..., ReplicateSimulator],
    live_server: LiveServer,
    settings: Settings,
    user,
    seconds,
):
    simulator = simulator_factory()
    configure(settings, base_url=simulator.base_url, webhook_secret=simulator.webhook_secret)
    settings.SITE_URL = live_server.url
    generation = submit(user, model_key="t2v-2.5", audio=voice(seconds))

    def ended() -> bool:  # the worker's tasks here, the webhooks on the server
        run_tasks()
        generation.refresh_from_db()
        return generation.is_terminal

    wait_until(ended, timeout=15, what="the generation to end")

    assert generation.status == Status.SUCCEEDED, generation.error_message
    sent = simulator.prediction(str(generation.prediction_id))
    assert f"Loaded the audio track: {seconds:.1f} s" in sent["logs"]
    assert generation.input_audio  # kept: the submission succeeded
