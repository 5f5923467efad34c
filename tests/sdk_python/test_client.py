"""The Python SDK (`wanpwa`) against the live stack (gunicorn, the task worker, the Replicate
simulator): what a developer's program does with it, over real HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import re
import socket
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path
from typing import TypedDict

import av
import pytest
from wanpwa import (
    AsyncWanPWA,
    AuthenticationError,
    ConflictError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
    WanPWA,
    WebhookVerificationError,
    webhooks,
)
from wanpwa.generations import GenerationParams

from credits.models import CreditPack
from credits.selectors import balance_of
from generations.models import Status
from tests import factories
from tests.fixtures.live_stack import ROOT, SUBMISSION_WINDOW, SUBMISSIONS_PER_WINDOW, LiveStack
from tests.fixtures.local_servers import Answer, LocalServer, Received, StartServer, free_port
from tests.sdk_python.conftest import Account, Fault, Proxy
from tests.waiting import wait_until
from wan_pwa.accounts.api_keys import create_api_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROMPT = "A red fox running through fresh snow at dawn"
T2V: GenerationParams = {"model_key": "t2v-1.3B", "resolution": "480p", "prompt": PROMPT}


class Poll(TypedDict):
    timeout: float
    poll_interval: float


POLL: Poll = {"timeout": 60, "poll_interval": 0.1}  # the simulator's run takes 0.3 s


def ledger_of(sdk: WanPWA, generation_id: int) -> list[tuple[str, int]]:
    """(type, amount) of the ledger rows of one generation, as the API lists them."""
    return [(e.type, e.amount) for e in sdk.credits.ledger() if e.generation == generation_id]


def assert_playable_mp4(content: bytes) -> None:
    assert content[4:8] == b"ftyp", content[:16]
    with av.open(io.BytesIO(content), "r") as container:
        frame = next(container.decode(video=0))
        assert frame.width > 0 and frame.height > 0


def test_create_and_wait_then_download_a_playable_video(sdk: WanPWA, tmp_path: Path):
    before = sdk.credits.get().balance

    video = sdk.generations.create_and_wait(**T2V, **POLL)

    assert video.status == "succeeded" and video.done and video.progress == 100
    assert video.video_url and video.completed_at is not None
    target = tmp_path / "fox.mp4"
    sdk.generations.download(video.id, target)
    assert_playable_mp4(target.read_bytes())
    assert list(tmp_path.iterdir()) == [target]  # written whole: no partial file left
    assert sdk.credits.get().balance == before - video.cost
    assert ledger_of(sdk, video.id) == [("deduction", -video.cost)]


def test_an_edit_of_a_finished_video_is_a_take_of_it(sdk: WanPWA):
    edit: GenerationParams = {
        "model_key": "edit-2.7",
        "operation": "edit",
        "resolution": "720p",
        "prompt": "Make it a snowy winter evening",
    }
    # The simulator's text-to-video clips are shorter than an edit's 2 s minimum, and an edit
    # lasts as long as its source: a take of an uploaded clip is the finished source.
    upload: GenerationParams = {**edit, "video": factories.clip_bytes(2.5)}
    source = sdk.generations.create_and_wait(**upload, **POLL)
    assert (source.status, source.parent, source.has_source_video) == ("succeeded", None, True)

    of_source: GenerationParams = {**edit, "source_generation": source.id}
    take = sdk.generations.create_and_wait(**of_source, **POLL)

    assert take.status == "succeeded", take.error_message
    assert (take.operation, take.parent, take.kind) == ("edit", source.id, "v2v")
    assert take.has_source_video and not take.parent_deleted
    assert sdk.generations.get(source.id).takes == [take.id]


def test_a_region_drawn_as_a_box_goes_with_an_uploaded_clip(sdk: WanPWA):
    # A file makes the request multipart/form-data: the box goes as a JSON string there.
    region = sdk.generations.create_and_wait(
        model_key="vace-14B",
        operation="region",
        resolution="480p",
        prompt="A red balloon floats in the sky",
        video=factories.clip_bytes(1.5),
        mask_box={"x": 0.25, "y": 0.5, "width": 0.5, "height": 0.25},
        **POLL,
    )

    assert region.status == "succeeded", region.error_message
    assert (region.operation, region.parent, region.has_source_video) == ("region", None, True)


def test_auto_refill_is_read_and_set(sdk: WanPWA):
    pack = CreditPack.objects.create(name="Starter", credits=100, price=500, currency="usd")
    assert sdk.credits.auto_refill().enabled is False

    saved = sdk.credits.set_auto_refill(enabled=False, threshold=20, pack_id=pack.pk, monthly_max=3)

    assert (saved.enabled, saved.threshold, saved.pack_id, saved.monthly_max) == (
        False,
        20,
        pack.pk,
        3,
    )
    assert (saved.card, saved.refills_this_month) == (None, 0)
    with pytest.raises(ValidationError, match="Save a card first"):
        sdk.credits.set_auto_refill(enabled=True, threshold=20, pack_id=pack.pk, monthly_max=3)
    assert sdk.credits.auto_refill() == saved


def test_lists_are_iterated_across_pages(sdk: WanPWA, account: Account):
    failed = [factories.make_generation(account.user, status=Status.FAILED).pk for _ in range(5)]
    succeeded = factories.make_generation(account.user, status=Status.SUCCEEDED).pk

    assert [g.id for g in sdk.generations.list(status="failed", page_size=2)] == failed[::-1]
    everything = [g.id for g in sdk.generations.list(page_size=2)]
    assert everything == [succeeded, *failed[::-1]]
    assert [g.id for g in sdk.generations.list(status="succeeded")] == [succeeded]
    # The sign-up bonus, then a charge for each and a refund for each failed one.
    ledger = list(sdk.credits.ledger(page_size=3))
    assert [entry.type for entry in ledger].count("refund") == 5
    assert len(ledger) == 1 + 6 + 5
    assert ledger[0].balance_after == sdk.credits.get().balance


def test_an_image_is_uploaded_as_a_path_bytes_or_an_open_file(sdk: WanPWA, tmp_path: Path):
    image = tmp_path / "fox.png"
    image.write_bytes(factories.png_bytes((128, 96)))
    prompt = "The fox turns its head"  # i2v-14B at 480p

    from_path = sdk.generations.create_and_wait(
        model_key="i2v-14B", prompt=prompt, image=image, **POLL
    )
    from_bytes = sdk.generations.create(
        model_key="i2v-14B", prompt=prompt, image=image.read_bytes()
    )
    with image.open("rb") as file:
        from_file = sdk.generations.create(model_key="i2v-14B", prompt=prompt, image=file)

    assert from_path.status == "succeeded" and from_path.has_input_image
    assert from_path.kind == "i2v"
    for generation in (from_bytes, from_file):
        assert generation.has_input_image
        assert sdk.generations.wait(generation.id, **POLL).status == "succeeded"


def test_a_429_is_retried_after_its_retry_after_with_the_same_idempotency_key(
    sdk_via_proxy: WanPWA, proxy: Proxy, account: Account
):
    made = [sdk_via_proxy.generations.create(**T2V) for _ in range(SUBMISSIONS_PER_WINDOW)]
    # One more within the window is refused: without retries, that is raised with the
    # limit's figures...
    hasty = WanPWA(api_key=account.key, base_url=proxy.url, max_retries=0)
    with hasty, pytest.raises(RateLimitError) as limited:
        hasty.generations.create(**T2V)
    assert limited.value.code == "rate_limited"
    assert limited.value.retry_after is not None
    assert 0 < limited.value.retry_after <= SUBMISSION_WINDOW
    assert (limited.value.rate_limit_limit, limited.value.rate_limit_remaining) == (
        SUBMISSIONS_PER_WINDOW,
        0,
    )

    # ... and with them, it is sent again after Retry-After and accepted.
    last = sdk_via_proxy.generations.create(**T2V)

    posts = proxy.posts("/api/v1/generations/")
    refused, accepted = posts[-2:]
    assert [p.status for p in posts] == [201] * SUBMISSIONS_PER_WINDOW + [429, 429, 201]
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= SUBMISSION_WINDOW
    assert accepted.at - refused.at >= retry_after - 0.05
    key = refused.request.headers["idempotency-key"]
    assert key.startswith("sdk-") and accepted.request.headers["idempotency-key"] == key
    keys = {p.request.headers["idempotency-key"] for p in posts}
    assert len(keys) == SUBMISSIONS_PER_WINDOW + 2  # one per create, shared by its retries
    # Charged once each: the refused attempts took nothing.
    generations = [*made, last]
    assert [g.id for g in sdk_via_proxy.generations.list()] == [g.id for g in generations][::-1]
    for generation in generations:
        assert ledger_of(sdk_via_proxy, generation.id) == [("deduction", -5)]


def test_a_lost_answer_is_retried_with_the_same_key_and_charged_once(
    sdk_via_proxy: WanPWA, proxy: Proxy
):
    # The server makes the generation, but the client is told 503 (a gateway lost the answer).
    proxy.faults.append(Fault(503, forward=True))

    generation = sdk_via_proxy.generations.create(**T2V)

    first, second = proxy.posts("/api/v1/generations/")
    assert (first.upstream_status, first.status) == (201, 503)
    assert (second.upstream_status, second.status) == (200, 200)  # the server's replay
    assert second.headers["idempotent-replayed"] == "true"
    assert first.request.headers["idempotency-key"] == second.request.headers["idempotency-key"]
    assert [g.id for g in sdk_via_proxy.generations.list()] == [generation.id]
    assert ledger_of(sdk_via_proxy, generation.id) == [("deduction", -5)]


def test_5xx_answers_are_retried_after_retry_after_then_typed(
    sdk_via_proxy: WanPWA, proxy: Proxy, account: Account
):
    # Retry-After as seconds, and as an HTTP date (a second from now).
    in_a_second = formatdate(time.time() + 1, usegmt=True)
    proxy.faults.extend(
        [
            Fault(502, forward=False),
            Fault(503, forward=False, retry_after="0"),
            Fault(503, forward=False, retry_after=in_a_second),
        ]
    )
    assert sdk_via_proxy.credits.get().balance == 100
    assert [e.status for e in proxy.exchanges] == [502, 503, 503, 200]
    assert proxy.exchanges[3].at - proxy.exchanges[2].at <= 2

    with WanPWA(api_key=account.key, base_url=proxy.url, max_retries=1) as impatient:
        proxy.faults.extend([Fault(500, forward=False)] * 2)
        with pytest.raises(ServerError) as raised:
            impatient.credits.get()
    assert (raised.value.status, raised.value.code) == (500, "bad_gateway")


def test_errors_are_typed_with_their_code_and_details(
    sdk: WanPWA, live_stack: LiveStack, account: Account
):
    stranger = WanPWA(api_key="wan_not-a-key", base_url=live_stack.url)
    with stranger, pytest.raises(AuthenticationError) as unauthenticated:
        stranger.credits.get()
    assert unauthenticated.value.status == 401
    # Every error names its request (X-Request-ID) and links its code's documentation.
    assert re.fullmatch(r"req_[A-Za-z0-9_-]{22}", unauthenticated.value.request_id or "")
    assert f"(request {unauthenticated.value.request_id})" in str(unauthenticated.value)
    assert (unauthenticated.value.doc_url or "").endswith(f"#{unauthenticated.value.code}")

    with pytest.raises(ValidationError) as invalid:
        sdk.generations.create(model_key="t2v-1.3B", prompt="short")
    assert invalid.value.status == 400 and invalid.value.code == "invalid"
    assert list(invalid.value.fields) == ["prompt"]

    with pytest.raises(NotFoundError) as missing:
        sdk.generations.get(2**31 - 1)
    assert (missing.value.status, missing.value.code) == (404, "not_found")

    finished = factories.make_generation(account.user, status=Status.SUCCEEDED)
    with pytest.raises(ConflictError) as conflict:
        sdk.generations.cancel(finished.pk)
    assert conflict.value.status == 409 and conflict.value.code

    factories.set_credits(account.user, 3)
    with pytest.raises(InsufficientCreditsError) as broke:
        sdk.generations.create(**T2V)
    assert (broke.value.code, broke.value.needed, broke.value.available) == (
        "insufficient_credits",
        5,
        3,
    )
    assert [g.id for g in sdk.generations.list()] == [finished.pk]  # nothing was made


def test_a_key_without_the_scope_is_refused_with_the_scope_it_needs(
    live_stack: LiveStack, account: Account
):
    read_only = create_api_key(account.user, "dashboard", scopes=["generations:read"])[1]
    client = WanPWA(api_key=read_only, base_url=live_stack.url)

    with client, pytest.raises(PermissionDeniedError) as refused:
        assert list(client.generations.list()) == []  # reading is allowed
        client.generations.create(**T2V)

    assert (refused.value.status, refused.value.code) == (403, "insufficient_scope")
    assert refused.value.required_scope == "generations:write"
    assert refused.value.request_id
    assert balance_of(account.user) == 100  # nothing charged


def test_cancel_retry_star_and_delete(sdk: WanPWA, account: Account):
    queued = factories.make_generation(account.user, status=Status.QUEUED, model_key="t2v-1.3B")
    with pytest.raises(WaitTimeoutError, match="still queued"):  # nothing runs it
        sdk.generations.wait(queued.pk, timeout=0.3, poll_interval=0.1)

    canceled = sdk.generations.cancel(queued.pk)
    assert canceled.status == "canceled" and canceled.failure_reason == "canceled_by_user"
    again = sdk.generations.retry(queued.pk)
    assert again.retried_from == queued.pk and again.id != queued.pk
    assert sdk.generations.star(again.id).starred
    assert [g.id for g in sdk.generations.list(starred=True)] == [again.id]
    assert not sdk.generations.unstar(again.id).starred
    sdk.generations.delete(queued.pk)
    with pytest.raises(NotFoundError):
        sdk.generations.get(queued.pk)
    assert sdk.generations.wait(again.id, **POLL).status == "succeeded"
    # The canceled one was refunded; its retry charged once.
    assert sorted(ledger_of(sdk, again.id)) == [("deduction", -5)]


def test_the_async_client_gives_what_the_sync_client_gives(
    sdk: WanPWA, async_sdk: AsyncWanPWA, account: Account
):
    for _ in range(3):
        factories.make_generation(account.user, status=Status.FAILED)

    async def with_async_client() -> tuple:
        async with async_sdk as client:
            models = await client.models.list()
            credits = await client.credits.get()
            ids = [g.id async for g in client.generations.list(page_size=2)]
            video = await client.generations.create_and_wait(**T2V, **POLL)
            downloaded = io.BytesIO()
            await client.generations.download(video.id, downloaded)
            with pytest.raises(NotFoundError):
                await client.generations.get(2**31 - 1)
            return models, credits, ids, video, downloaded.getvalue()

    models, credits, ids, video, content = asyncio.run(with_async_client())

    assert models == sdk.models.list()
    assert credits.balance == 100  # the failed ones were refunded
    assert sdk.credits.get().balance == 100 - video.cost
    assert ids == [g.id for g in sdk.generations.list()][1:]  # all but the new one
    assert video.status == "succeeded" and sdk.generations.get(video.id) == video
    assert_playable_mp4(content)


def received(receiver: LocalServer, count: int) -> list[Received]:
    wait_until(lambda: len(receiver.received) >= count, timeout=20, what=f"{count} webhooks")
    return receiver.received


def test_a_generation_ending_is_delivered_signed_and_verified_by_the_sdk(
    sdk: WanPWA, start_server: StartServer
):
    receiver = start_server(Answer(204))
    endpoint = sdk.webhook_endpoints.create(
        f"{receiver.url}/hooks", events=["generation.succeeded"], description="tests"
    )
    assert endpoint.secret and endpoint.secret.startswith("whsec_")
    assert sdk.webhook_endpoints.get(endpoint.id).secret is None  # shown once

    video = sdk.generations.create_and_wait(**T2V, **POLL)
    (delivery,) = received(receiver, 1)
    arrived = time.time()

    event = webhooks.verify(delivery.headers, delivery.body, endpoint.secret)
    assert event.type == "generation.succeeded"
    assert event.generation().id == video.id and event.generation().status == "succeeded"
    assert delivery.path == "/hooks" and event.id == delivery.headers["webhook-id"]
    assert video.completed_at is not None and arrived - video.completed_at.timestamp() < 20
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(delivery.headers, delivery.body + b" ", endpoint.secret)
    (logged,) = sdk.webhook_endpoints.deliveries(endpoint.id)
    assert (logged.webhook_id, logged.type) == (event.id, "generation.succeeded")
    assert logged.attempts_log[0].status_code == 204


def test_endpoints_are_managed_and_a_rotation_signs_with_both_secrets(
    sdk: WanPWA, start_server: StartServer
):
    receiver = start_server(Answer(200))
    endpoint = sdk.webhook_endpoints.create(f"{receiver.url}/in")
    assert set(endpoint.events) == {
        "generation.succeeded",
        "generation.failed",
        "generation.canceled",
        "order.paid",
        "credits.low",
    }
    assert [e.id for e in sdk.webhook_endpoints.list()] == [endpoint.id]
    assert sdk.webhook_endpoints.update(endpoint.id, description="renamed").description == (
        "renamed"
    )

    old_secret = endpoint.secret
    new_secret = sdk.webhook_endpoints.rotate_secret(endpoint.id).secret
    assert old_secret and new_secret and new_secret != old_secret
    test = sdk.webhook_endpoints.test(endpoint.id)
    (delivery,) = received(receiver, 1)
    assert len(delivery.headers["webhook-signature"].split()) == 2  # the new and the old
    for secret in (new_secret, old_secret):
        event = webhooks.verify(delivery.headers, delivery.body, secret)
        assert (event.type, event.id) == ("webhook.test", test.webhook_id)

    again = sdk.webhook_endpoints.resend(endpoint.id, test.id)
    second = received(receiver, 2)[1]
    assert again.id == test.id and second.headers["webhook-id"] == delivery.headers["webhook-id"]

    sdk.webhook_endpoints.delete(endpoint.id)
    with pytest.raises(NotFoundError):
        sdk.webhook_endpoints.get(endpoint.id)
    assert sdk.webhook_endpoints.signing_secret().startswith("whsec_")


def readme_receiver(port: int) -> str:
    """The README's webhook receiver, listening on `port`."""
    code = re.search(r"```python\n(# receiver\.py:.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert code, "the README's receiver example is gone"
    return code.group(1).replace('("127.0.0.1", 9000)', f'("127.0.0.1", {port})')


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_readme_receiver_verifies_a_real_delivery(sdk: WanPWA, tmp_path: Path):
    port = free_port()
    script, output = tmp_path / "receiver.py", tmp_path / "receiver.out"
    script.write_text(readme_receiver(port))
    endpoint = sdk.webhook_endpoints.create(f"http://127.0.0.1:{port}/")
    env = {
        **os.environ,
        "WANPWA_WEBHOOK_SECRET": endpoint.secret or "",
        "PYTHONPATH": str(ROOT / "sdks" / "python" / "src"),
    }
    with output.open("w") as out:
        receiver = subprocess.Popen(  # noqa: S603 (the README's example)
            [sys.executable, "-u", str(script)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until(lambda: listening(port), timeout=20, what="the receiver to listen")
        sdk.webhook_endpoints.test(endpoint.id)
        wait_until(lambda: "webhook.test" in output.read_text(), timeout=20, what="the event")

        def answered() -> list[int | None]:
            (delivery,) = sdk.webhook_endpoints.deliveries(endpoint.id)
            return [attempt.status_code for attempt in delivery.attempts_log]

        wait_until(lambda: answered() == [204], timeout=20, what="the delivery's log")
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    assert "A test event from Wan PWA" in output.read_text()
