"""The local Replicate simulator, driven over real HTTP by the official replicate client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import httpx
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ReplicateError
from replicate.webhook import WebhookSigningSecret

from generations.simulator import (
    DEFAULT_WEBHOOK_SECRET,
    MODELS,
    ReplicateSimulator,
    render_video,
)
from generations.simulator.wan_models import invalid_fields
from tests.factories import catalog_inputs, png_data_url
from tests.waiting import wait_until

PROMPT = "A corgi surfing a turquoise wave at sunset"
T2V = "wan-video/wan-2.1-1.3b"
I2V = "wavespeedai/wan-2.1-i2v-480p"
TERMINAL = {"succeeded", "failed", "canceled", "aborted"}


def create(
    client: replicate.Client,
    receiver=None,
    *,
    prompt: str = PROMPT,
    model: str = T2V,
    **extra: object,
):
    options = {"webhook": receiver.url()} if receiver else {}
    return client.models.predictions.create(
        model=model, input={"prompt": prompt, **extra}, **options
    )


def create_with_events(simulator, receiver, events: list[str], prompt: str = PROMPT):
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    return client.models.predictions.create(
        model=T2V, input={"prompt": prompt}, webhook=receiver.url(), webhook_events_filter=events
    )


def wait_done(client: replicate.Client, prediction_id: str, timeout: float = 3.0):
    def done() -> bool:
        return client.predictions.get(prediction_id).status in TERMINAL

    wait_until(done, timeout=timeout, what=f"prediction {prediction_id} to end")
    return client.predictions.get(prediction_id)


def wait_idle(simulator: ReplicateSimulator) -> None:
    """Until every prediction has ended and its webhooks are sent: after this nothing more
    arrives, so a test can say what did not happen."""
    wait_until(lambda: simulator.is_idle, timeout=5, what="the simulator's last webhooks")


def statuses(requests) -> list[str]:
    return [json.loads(request.body)["status"] for request in requests]


def has_terminal(requests) -> bool:
    return any(status in TERMINAL for status in statuses(requests))


def decode(mp4: bytes) -> tuple[int, int, float, int]:
    """Width, height, duration in seconds and decoded frame count."""
    with av.open(io.BytesIO(mp4), "r") as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert container.duration is not None
        return stream.width, stream.height, container.duration / av.time_base, frames


def assert_signed(request, secret: str = DEFAULT_WEBHOOK_SECRET) -> None:
    replicate.webhooks.validate(
        headers=request.headers,
        body=request.body.decode(),
        secret=WebhookSigningSecret(key=secret),
        tolerance=300,
    )
    # And by hand, from the Standard Webhooks definition.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
    digest = hmac.new(key, signed + request.body, hashlib.sha256).digest()
    assert request.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert request.headers["webhook-id"].startswith("msg_")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60


def webhook_log(simulator, condition, timeout: float = 2.0) -> list:
    """The simulator's webhook log once `condition(log)` holds. An attempt is logged after the
    receiver answers, so a moment after the receiver has seen the request."""
    wait_until(lambda: condition(simulator.webhook_log), timeout=timeout, what="the webhook log")
    return simulator.webhook_log


def logged_events(simulator) -> list[str]:
    """Events sent, once the completed one is logged."""
    log = webhook_log(simulator, lambda log: any(a.event == "completed" for a in log))
    return [attempt.event for attempt in log]


# The happy path ----------------------------------------------------------------------------


def test_prediction_runs_to_success_with_signed_webhooks_and_a_playable_mp4(
    simulator, simulator_client, simulator_webhooks
):
    prediction = create(simulator_client, simulator_webhooks, seed=7)

    assert prediction.status == "starting"
    assert prediction.model == T2V
    assert prediction.input == {"prompt": PROMPT, "seed": 7}
    assert prediction.urls["get"] == f"{simulator.base_url}/v1/predictions/{prediction.id}"
    requests = simulator_webhooks.wait_until(has_terminal)
    # start first, progress (processing) in between, completed last
    assert statuses(requests)[0] == "starting"
    assert "processing" in statuses(requests)
    assert statuses(requests)[-1] == "succeeded"
    events = logged_events(simulator)
    assert events[0] == "start"
    assert "logs" in events
    assert events[-1] == "completed"
    for request in requests:
        assert request.path == "/api/webhooks/replicate?generation=42"
        assert request.headers["content-type"] == "application/json"
        assert_signed(request)
    assert len({r.headers["webhook-id"] for r in requests}) == len(requests)

    final = json.loads(requests[-1].body)
    got = simulator_client.predictions.get(prediction.id)
    assert got.status == "succeeded" == final["status"]
    assert (
        got.output
        == final["output"]
        == (f"{simulator.base_url}/delivery/{prediction.id}/output.mp4")
    )
    assert got.metrics["predict_time"] > 0
    assert got.completed_at and got.started_at
    assert "Using seed: 7" in got.logs
    assert got.progress.percentage == 1.0  # the client parses our tqdm lines

    video = httpx.get(got.output)  # no auth, like replicate.delivery
    assert video.headers["content-type"] == "video/mp4"
    width, height, duration, frames = decode(video.content)
    assert (width, height, frames) == (832, 480, 4)
    assert duration > 0


@pytest.mark.parametrize(
    ("model", "extra", "size"),
    [
        (T2V, {"aspect_ratio": "9:16", "frame_num": 81, "resolution": "480p"}, (480, 832)),
        ("wavespeedai/wan-2.1-t2v-480p", {"aspect_ratio": "16:9"}, (832, 480)),
        ("wavespeedai/wan-2.1-t2v-720p", {"aspect_ratio": "16:9"}, (1280, 720)),
        ("wavespeedai/wan-2.1-t2v-720p", {"aspect_ratio": "9:16"}, (720, 1280)),
        (
            "wavespeedai/wan-2.1-i2v-720p",
            {"image": png_data_url(), "aspect_ratio": "9:16"},
            (720, 1280),
        ),
    ],
)
def test_output_size_follows_the_model_resolution_and_aspect_ratio(
    simulator_factory, model, extra, size
):
    simulator = simulator_factory(frames=2, duration=0.1)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)

    prediction = wait_done(client, create(client, model=model, **extra).id)

    assert prediction.status == "succeeded", prediction.error
    assert decode(httpx.get(prediction.output).content)[:2] == size


def test_image_to_video_accepts_a_data_url(simulator, simulator_client):
    prediction = create(
        simulator_client, model=I2V, image=png_data_url((200, 300)), negative_prompt="blurry"
    )

    done = wait_done(simulator_client, prediction.id)

    assert done.status == "succeeded", done.error
    # no aspect ratio given: the portrait image picks the portrait size
    width, height, duration, _ = decode(httpx.get(done.output).content)
    assert (width, height) == (480, 832)
    assert duration > 0


def test_image_to_video_accepts_an_uploaded_file(simulator, simulator_client):
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), "navy").save(buffer, "JPEG")
    buffer.seek(0)
    upload = simulator_client.files.create(buffer, filename="photo.jpg", metadata={"n": 1})

    prediction = create(simulator_client, model=I2V, image=upload.urls["get"], aspect_ratio="16:9")

    assert wait_done(simulator_client, prediction.id).status == "succeeded"


def test_image_to_video_downloads_an_http_image(simulator, simulator_client, simulator_webhooks):
    data = base64.b64decode(png_data_url().split(",")[1])
    simulator_webhooks.files["/cat.png"] = (data, "image/png")

    good = create(simulator_client, model=I2V, image=simulator_webhooks.url("/cat.png"))
    missing = create(simulator_client, model=I2V, image=simulator_webhooks.url("/nope.png"))

    assert wait_done(simulator_client, good.id).status == "succeeded"
    failed = wait_done(simulator_client, missing.id)
    assert failed.status == "failed"
    assert "HTTP 404" in failed.error


def test_image_to_video_fails_on_an_image_too_large_or_not_an_image(simulator_factory):
    simulator = simulator_factory(max_image_bytes=1000)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    big = create(client, model=I2V, image=png_data_url((900, 900)))  # noise-free but > 1000 B
    not_image = create(client, model=I2V, image="data:image/png;base64,aGVsbG8=")

    assert "larger than 1000 bytes" in wait_done(client, big.id).error
    assert "could not be decoded" in wait_done(client, not_image.id).error


# Reading predictions -----------------------------------------------------------------------


def test_list_is_newest_first_with_cursor_pages(simulator_factory):
    simulator = simulator_factory(page_size=2)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    ids = [create(client, prompt=f"{PROMPT} number {n} [hang]").id for n in range(5)]
    newest_first = ids[::-1]

    first = client.predictions.list()
    second = client.predictions.list(first.next)
    third = client.predictions.list(second.next)

    assert [p.id for p in first] == newest_first[:2]
    assert [p.id for p in second] == newest_first[2:4]
    assert [p.id for p in third] == newest_first[4:]
    assert first.previous is None and third.next is None
    assert [p.id for p in client.predictions.list(second.previous)] == newest_first[:2]
    assert [p.id for p in client.predictions.list(third.previous)] == newest_first[2:4]
    with pytest.raises(ReplicateError) as error:
        client.predictions.list(f"{simulator.base_url}/v1/predictions?cursor=bogus")
    assert error.value.status == 400


def test_get_of_an_unknown_prediction_is_404(simulator_client):
    with pytest.raises(ReplicateError) as error:
        simulator_client.predictions.get("doesnotexist")
    assert error.value.status == 404


# Ending early ------------------------------------------------------------------------------


def test_cancel_ends_a_hung_prediction_with_a_completed_webhook(
    simulator, simulator_client, simulator_webhooks
):
    prediction = create(simulator_client, simulator_webhooks, prompt=f"{PROMPT} [hang]")
    simulator_webhooks.wait_until(lambda requests: "processing" in statuses(requests))
    # A hung prediction stays processing after one started later has finished.
    assert wait_done(simulator_client, create(simulator_client).id).status == "succeeded"
    assert simulator_client.predictions.get(prediction.id).status == "processing"

    canceled = simulator_client.predictions.cancel(prediction.id)

    assert canceled.status == "canceled"
    assert canceled.completed_at is not None
    requests = simulator_webhooks.wait_until(has_terminal)
    assert statuses(requests)[-1] == "canceled"
    assert_signed(requests[-1])
    assert logged_events(simulator)[-1] == "completed"
    # canceling again, or canceling a finished prediction, changes nothing
    assert simulator_client.predictions.cancel(prediction.id).status == "canceled"
    wait_idle(simulator)
    assert statuses(simulator_webhooks.requests).count("canceled") == 1


def test_cancel_leaves_a_succeeded_prediction_unchanged(simulator, simulator_client):
    prediction = wait_done(simulator_client, create(simulator_client).id)

    after = simulator_client.predictions.cancel(prediction.id)

    assert after.status == "succeeded"
    assert after.output == prediction.output


def test_fail_marker_fails_with_an_error_and_a_completed_webhook(
    simulator, simulator_client, simulator_webhooks
):
    prediction = create(simulator_client, simulator_webhooks, prompt=f"{PROMPT} [fail]")

    requests = simulator_webhooks.wait_until(has_terminal)

    final = json.loads(requests[-1].body)
    assert final["status"] == "failed"
    assert "CUDA out of memory" in final["error"]
    assert final["output"] is None
    got = simulator_client.predictions.get(prediction.id)
    assert got.status == "failed"
    assert "Traceback" in got.logs


def test_fail_rate_one_fails_every_prediction(simulator_factory):
    simulator = simulator_factory(fail_rate=1.0)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)

    assert simulator.wait_for(create(client).id)["status"] == "failed"


def test_aborted_marker_ends_before_starting(simulator, simulator_webhooks):
    # The replicate 1.0.7 client's Prediction model rejects "aborted", so read raw JSON.
    headers = {"Authorization": "Bearer r8_test"}
    body = {"input": {"prompt": f"{PROMPT} [aborted]"}, "webhook": simulator_webhooks.url()}
    created = httpx.post(
        f"{simulator.base_url}/v1/models/{T2V}/predictions", json=body, headers=headers
    ).json()

    requests = simulator_webhooks.wait_until(has_terminal)

    final = json.loads(requests[-1].body)
    assert final["id"] == created["id"]
    assert final["status"] == "aborted"
    assert final["started_at"] is None
    assert final["error"]


def test_slow_marker_takes_longer(simulator_factory):
    simulator = simulator_factory(duration=0.15)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    slow = create(client, prompt=f"{PROMPT} [slow]")
    normal = create(client)

    assert wait_done(client, normal.id).status == "succeeded"
    assert client.predictions.get(slow.id).status in ("starting", "processing")
    assert wait_done(client, slow.id).status == "succeeded"


# Create errors -----------------------------------------------------------------------------


def test_create_429_with_a_count_throttles_that_many_times_then_accepts(simulator):
    url = f"{simulator.base_url}/v1/models/{T2V}/predictions"
    body = {"input": {"prompt": f"{PROMPT} [create-429x1]"}}
    headers = {"Authorization": "Bearer r8_test"}

    throttled = httpx.post(url, json=body, headers=headers)
    accepted = httpx.post(url, json=body, headers=headers)

    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "1"
    assert throttled.json()["detail"] == "Request was throttled. Expected available in 1 second."
    assert throttled.json()["status"] == 429
    assert accepted.status_code == 201
    assert len(simulator.predictions) == 1


def test_create_429_without_a_count_always_throttles(simulator, simulator_client):
    for _ in range(3):
        with pytest.raises(ReplicateError) as error:
            create(simulator_client, prompt=f"{PROMPT} [create-429]")
        assert error.value.status == 429
    assert simulator.predictions == {}


def test_create_500_always_or_a_given_number_of_times(simulator, simulator_client):
    with pytest.raises(ReplicateError) as error:
        create(simulator_client, prompt=f"{PROMPT} [create-500]")
    assert error.value.status == 500
    for _ in range(2):
        with pytest.raises(ReplicateError):
            create(simulator_client, prompt=f"{PROMPT} [create-500x2]")

    assert create(simulator_client, prompt=f"{PROMPT} [create-500x2]").status == "starting"
    with pytest.raises(ReplicateError):
        create(simulator_client, prompt=f"{PROMPT} [create-500]")


def test_every_input_the_catalog_sends_is_accepted_and_sized_right():
    sent_models = set()
    for model, variant, aspect_ratio, data in catalog_inputs(negative_prompt="blurry"):
        wan = MODELS[variant.replicate_model]
        sent_models.add(variant.replicate_model)

        assert invalid_fields(wan, data) == []
        if not model.creates:
            continue  # a take's size follows its source (test_takes_simulator.py)
        # Models without an orientation input follow the image's.
        image_size = (300, 200) if aspect_ratio == "16:9" else (200, 300)
        width, height = wan.size(data, image_size if model.needs_image else None)
        assert (width > height) == (aspect_ratio == "16:9")
        assert min(width, height) == int(variant.resolution.removesuffix("p"))
    assert sent_models == set(MODELS)


def test_missing_or_wrong_token_is_401(simulator_factory):
    simulator = simulator_factory(token="r8_right")
    url = f"{simulator.base_url}/v1/predictions"

    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Basic cjg6cjg="}).status_code == 401
    wrong = httpx.get(url, headers={"Authorization": "Bearer r8_wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"]
    assert httpx.get(url, headers={"Authorization": "Token r8_right"}).status_code == 200
    client = replicate.Client(api_token="r8_right", base_url=simulator.base_url)
    assert client.predictions.list().results == []


def test_any_token_is_accepted_when_none_is_configured(simulator):
    response = httpx.get(
        f"{simulator.base_url}/v1/predictions", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 200


def test_unknown_model_is_404(simulator_client):
    with pytest.raises(ReplicateError) as error:
        create(simulator_client, model="stability-ai/sdxl")
    assert error.value.status == 404


def test_missing_prompt_is_422_with_invalid_fields(simulator, simulator_client):
    with pytest.raises(ReplicateError) as error:
        simulator_client.models.predictions.create(model=T2V, input={"seed": 1})
    assert error.value.status == 422
    assert "prompt is required" in (error.value.detail or "")

    raw = httpx.post(
        f"{simulator.base_url}/v1/models/{I2V}/predictions",
        json={"input": {"prompt": PROMPT}},
        headers={"Authorization": "Bearer r8_test"},
    )
    assert raw.status_code == 422
    assert raw.headers["content-type"] == "application/problem+json"
    assert raw.json()["invalid_fields"] == [
        {"type": "required", "field": "input.image", "description": "image is required"}
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": {"prompt": PROMPT, "aspect_ratio": "4:3"}}, "aspect_ratio must be one of"),
        ({"input": {"prompt": PROMPT, "seed": "7"}}, "seed must be of type int"),
        ({"input": {"prompt": PROMPT, "resolution": "720p"}}, "resolution must be one of"),
        ({"input": {"prompt": PROMPT}, "webhook": "ftp://x"}, "webhook must be an HTTP(S) URL"),
        ({"input": {"prompt": PROMPT}, "webhook_events_filter": ["done"]}, "items must be"),
        ({"input": {"prompt": PROMPT}, "webhook_event_filter": []}, "is not allowed"),
        ({"input": "a prompt"}, "input is required"),
    ],
)
def test_invalid_requests_are_422(simulator, body, message):
    response = httpx.post(
        f"{simulator.base_url}/v1/models/{T2V}/predictions",
        json=body,
        headers={"Authorization": "Bearer r8_test"},
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_inputs_the_model_takes_are_recorded_and_unknown_ones_refused(simulator_client):
    wavespeed = "wavespeedai/wan-2.1-t2v-480p"
    prediction = create(simulator_client, model=wavespeed, sample_steps=4, lora_scale=1)
    assert prediction.input["sample_steps"] == 4
    assert wait_done(simulator_client, prediction.id).status == "succeeded"
    with pytest.raises(ReplicateError) as error:
        create(simulator_client, model=wavespeed, extra_thing=[1, 2])
    assert error.value.status == 422
    assert "input.extra_thing" in (error.value.detail or "")


def test_bad_json_is_400_and_unknown_paths_are_404(simulator):
    headers = {"Authorization": "Bearer r8_test", "Content-Type": "application/json"}
    bad = httpx.post(
        f"{simulator.base_url}/v1/models/{T2V}/predictions", content=b"{nope", headers=headers
    )
    assert bad.status_code == 400
    assert "not valid JSON" in bad.json()["detail"]
    missing = httpx.get(f"{simulator.base_url}/v1/deployments", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {"title": "Not Found", "detail": "Not found", "status": 404}
    wrong_method = httpx.delete(f"{simulator.base_url}/v1/predictions", headers=headers)
    assert wrong_method.status_code == 405


# Webhook delivery --------------------------------------------------------------------------


def test_no_webhooks_marker_sends_none_while_get_shows_success(
    simulator, simulator_client, simulator_webhooks
):
    prediction = create(simulator_client, simulator_webhooks, prompt=f"{PROMPT} [no-webhooks]")

    assert wait_done(simulator_client, prediction.id).status == "succeeded"
    wait_idle(simulator)
    assert simulator_webhooks.requests == []
    assert simulator.webhook_log == []


def test_no_webhooks_option_applies_to_every_prediction(simulator_factory, simulator_webhooks):
    simulator = simulator_factory(no_webhooks=True)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)

    assert wait_done(client, create(client, simulator_webhooks).id).status == "succeeded"
    wait_idle(simulator)
    assert simulator_webhooks.requests == []


def test_duplicate_webhooks_marker_sends_each_twice_with_the_same_id(
    simulator_client, simulator_webhooks
):
    create(simulator_client, simulator_webhooks, prompt=f"{PROMPT} [duplicate-webhooks]")

    requests = simulator_webhooks.wait_until(
        lambda requests: statuses(requests).count("succeeded") == 2
    )

    ids = [request.headers["webhook-id"] for request in requests]
    assert all(ids.count(webhook_id) == 2 for webhook_id in ids)
    assert requests[-1].headers["webhook-id"] == requests[-2].headers["webhook-id"]
    assert requests[-1].body == requests[-2].body
    for request in requests:
        assert_signed(request)


def test_out_of_order_marker_sends_a_stale_logs_webhook_after_completed(
    simulator, simulator_client, simulator_webhooks
):
    create(simulator_client, simulator_webhooks, prompt=f"{PROMPT} [out-of-order]")

    requests = simulator_webhooks.wait_until(
        lambda requests: has_terminal(requests) and statuses(requests)[-1] == "processing"
    )

    assert statuses(requests)[-2] == "succeeded"
    log = webhook_log(simulator, lambda log: len(log) >= 2 and log[-2].event == "completed")
    assert log[-1].event == "logs"
    assert_signed(requests[-1])


def test_events_filter_limits_what_is_sent(simulator, simulator_webhooks):
    create_with_events(simulator, simulator_webhooks, ["completed"])

    requests = simulator_webhooks.wait_until(has_terminal)
    wait_idle(simulator)

    assert statuses(simulator_webhooks.requests) == ["succeeded"] == statuses(requests)


def test_logs_and_output_webhooks_are_throttled(simulator_factory, simulator_webhooks):
    simulator = simulator_factory(duration=0.6, webhook_throttle=0.2)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)

    create(client, simulator_webhooks, sample_steps=30)
    final = json.loads(simulator_webhooks.wait_until(has_terminal)[-1].body)

    progress = [a for a in simulator.webhook_log if a.event in ("logs", "output")]
    log_lines = final["logs"].count("\n") + 1
    # 30+ log lines while processing, but at most one webhook per 0.2 s of it
    assert log_lines > 30
    assert 2 <= len(progress) <= final["metrics"]["predict_time"] / 0.2 + 1


def test_terminal_webhook_is_retried_with_the_same_id_until_2xx(simulator, simulator_webhooks):
    simulator_webhooks.statuses.extend([500, 503])

    create_with_events(simulator, simulator_webhooks, ["completed"])
    requests = simulator_webhooks.wait_until(lambda requests: len(requests) == 3)

    assert statuses(requests) == ["succeeded"] * 3
    assert len({request.headers["webhook-id"] for request in requests}) == 1
    for request in requests:
        assert_signed(request)
    log = webhook_log(simulator, lambda log: len(log) == 3)
    assert [(a.attempt, a.status_code) for a in log] == [
        (1, 500),
        (2, 503),
        (3, 200),
    ]


def test_terminal_webhook_retries_are_bounded(simulator, simulator_webhooks):
    simulator_webhooks.statuses.extend([500] * 10)

    create_with_events(simulator, simulator_webhooks, ["completed"])
    simulator_webhooks.wait_until(lambda requests: len(requests) == 4)  # 1 try + 3 retries
    wait_idle(simulator)

    assert len(simulator_webhooks.requests) == 4


def test_non_terminal_webhooks_are_not_retried(simulator, simulator_webhooks):
    simulator_webhooks.statuses.append(500)  # the start webhook fails once

    create_with_events(simulator, simulator_webhooks, ["start", "completed"])
    requests = simulator_webhooks.wait_until(has_terminal)

    assert statuses(requests) == ["starting", "succeeded"]


def test_unreachable_webhook_is_retried_then_given_up(simulator_factory):
    simulator = simulator_factory(webhook_retry_delays=(0.05,))
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    prediction = client.models.predictions.create(
        model=T2V,
        input={"prompt": PROMPT},
        webhook="http://127.0.0.1:9/closed-port",
        webhook_events_filter=["completed"],
    )

    assert wait_done(client, prediction.id).status == "succeeded"
    log = webhook_log(simulator, lambda log: len(log) == 2)
    assert [a.status_code for a in log] == [None, None]
    assert "ConnectError" in log[0].error


def test_redirects_are_not_followed_and_count_as_failures(simulator_factory, simulator_webhooks):
    simulator = simulator_factory(webhook_retry_delays=(0.05,))
    simulator_webhooks.redirect_to = simulator_webhooks.url("/elsewhere")
    simulator_webhooks.statuses.extend([302, 302])

    create_with_events(simulator, simulator_webhooks, ["completed"])

    simulator_webhooks.wait_until(lambda requests: len(requests) == 2)
    wait_idle(simulator)

    assert [r.path for r in simulator_webhooks.requests] == [
        "/api/webhooks/replicate?generation=42"
    ] * 2
    assert [a.status_code for a in webhook_log(simulator, lambda log: len(log) == 2)] == [302, 302]


def test_custom_secret_signs_webhooks_and_is_served(simulator_factory, simulator_webhooks):
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    simulator = simulator_factory(webhook_secret=secret)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)

    assert client.webhooks.default.secret().key == secret
    create(client, simulator_webhooks)
    for request in simulator_webhooks.wait_until(has_terminal):
        assert_signed(request, secret)
        with pytest.raises(replicate.webhook.InvalidSignatureError):
            replicate.webhooks.validate(
                headers=request.headers,
                body=request.body.decode(),
                secret=WebhookSigningSecret(key=DEFAULT_WEBHOOK_SECRET),
            )


def test_default_secret_endpoint(simulator, simulator_client):
    assert simulator_client.webhooks.default.secret().key == DEFAULT_WEBHOOK_SECRET
    assert simulator.webhook_secret == DEFAULT_WEBHOOK_SECRET
    assert DEFAULT_WEBHOOK_SECRET.startswith("whsec_")


def test_malformed_secret_is_refused():
    with pytest.raises(ValueError, match="whsec_"):
        ReplicateSimulator(webhook_secret="not-a-secret")


# Files, outputs and data removal -----------------------------------------------------------


def test_files_can_be_uploaded_read_downloaded_listed_and_deleted(simulator, simulator_client):
    content = os.urandom(3000) + b"\r\n--boundary-ish\r\n"

    upload = simulator_client.files.create(
        io.BytesIO(content), filename="blob.bin", metadata={"ref": "x"}
    )

    assert upload.size == len(content)
    assert upload.name == "blob.bin"
    assert upload.metadata == {"ref": "x"}
    assert upload.checksums["sha256"] == hashlib.sha256(content).hexdigest()
    assert simulator_client.files.get(upload.id).id == upload.id
    assert [f.id for f in simulator_client.files.list()] == [upload.id]
    download = httpx.get(
        f"{upload.urls['get']}/download", headers={"Authorization": "Bearer r8_test"}
    )
    assert download.content == content
    assert simulator_client.files.delete(upload.id) is True
    with pytest.raises(ReplicateError):
        simulator_client.files.get(upload.id)


def test_delivery_serves_byte_ranges(simulator, simulator_client):
    output = wait_done(simulator_client, create(simulator_client).id).output
    full = httpx.get(output).content

    part = httpx.get(output, headers={"Range": "bytes=10-19"})
    tail = httpx.get(output, headers={"Range": "bytes=-5"})

    assert part.status_code == 206
    assert part.content == full[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(full)}"
    assert tail.content == full[-5:]
    assert httpx.get(output, headers={"Range": f"bytes={len(full)}-"}).status_code == 416


def test_removed_data_empties_the_prediction_and_its_output(simulator, simulator_client):
    prediction = wait_done(simulator_client, create(simulator_client).id)

    simulator.remove_data(prediction.id)

    after = simulator_client.predictions.get(prediction.id)
    assert after.output is None
    assert after.input == {}
    assert after.logs == ""
    assert simulator.prediction(prediction.id)["data_removed"] is True
    assert httpx.get(prediction.output).status_code == 404


def test_data_is_removed_after_the_retention_period(simulator_factory):
    simulator = simulator_factory(data_retention=0.2)
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    prediction = wait_done(client, create(client).id)
    assert prediction.output is not None  # kept at first

    wait_until(
        lambda: simulator.prediction(prediction.id)["data_removed"],
        timeout=3,
        what="the data to be removed",
    )

    assert client.predictions.get(prediction.id).output is None


def test_prefer_wait_holds_the_create_until_done(simulator):
    response = httpx.post(
        f"{simulator.base_url}/v1/models/{T2V}/predictions",
        json={"input": {"prompt": PROMPT}},
        headers={"Authorization": "Bearer r8_test", "Prefer": "wait=5"},
        timeout=10,
    )
    assert response.status_code == 201
    assert response.json()["status"] == "succeeded"


def test_web_url_shows_the_prediction(simulator, simulator_client):
    prediction = wait_done(simulator_client, create(simulator_client).id)
    page = httpx.get(prediction.urls["web"])
    assert page.status_code == 200
    assert "<video" in page.text
    assert "succeeded" in page.text


# Shutdown, rendering and the command -------------------------------------------------------


def test_stop_ends_hung_predictions_quickly_without_webhooks(simulator_factory, simulator_webhooks):
    simulator = simulator_factory()
    client = replicate.Client(api_token="r8_test", base_url=simulator.base_url)
    create(client, simulator_webhooks, prompt=f"{PROMPT} [hang]")
    simulator_webhooks.wait_until(lambda requests: "processing" in statuses(requests))
    sent = len(simulator_webhooks.requests)

    started = time.monotonic()
    simulator.stop()

    assert time.monotonic() - started < 1.5
    assert simulator.is_idle  # stop() joined every thread: nothing more can be sent
    assert len(simulator_webhooks.requests) == sent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{simulator.base_url}/v1/predictions")


def test_render_video_text_and_image_are_h264_mp4():
    text = render_video("A lighthouse in a storm", 64, 48, frames=3, fps=16, seed=1)
    image = render_video("", 48, 64, frames=5, image=Image.new("RGB", (500, 300), "teal"))

    assert decode(text)[:2] == (64, 48) and decode(text)[3] == 3
    assert decode(image)[:2] == (48, 64) and decode(image)[3] == 5
    with av.open(io.BytesIO(text)) as container:
        codec = container.streams.video[0].codec_context
        assert codec.name == "h264"
        assert codec.pix_fmt == "yuv420p"
    assert text.index(b"moov") < text.index(b"mdat")  # faststart: playable while downloading
    assert render_video("same", 64, 48, 3, seed=1) != render_video("other", 64, 48, 3, seed=1)
    with pytest.raises(ValueError, match="even"):
        render_video("odd", 63, 48, 3)


def test_command_serves_until_sigterm(tmp_path: Path):
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    process = subprocess.Popen(  # noqa: S603 (our own manage.py)
        [sys.executable, str(manage), "replicate_simulator", "--port", "0", "--duration", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    try:
        line = process.stdout.readline()  # blocks until the banner; the timeout below guards
        base_url = line.split()[-1]
        assert base_url.startswith("http://127.0.0.1:")
        assert DEFAULT_WEBHOOK_SECRET in process.stdout.readline()
        client = replicate.Client(api_token="r8_test", base_url=base_url)
        assert client.predictions.list().results == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
