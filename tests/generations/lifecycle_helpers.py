"""Helpers for the generation lifecycle tests: submitting, running the task worker, signing
webhooks the way Replicate does, and reading the ledger."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from PIL import Image
from pytest_django import Settings

from credits.models import CreditTransaction, TransactionType
from generations.actions.params import GenerationParams
from generations.failures import FailureReason
from generations.lifecycle.submission import submit_generation
from generations.models import Generation
from generations.replicate import predictions
from tests.factories import PROMPT
from wan_pwa.accounts.models import User

if TYPE_CHECKING:  # what the test client answers, named in django-stubs only
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"lifecycle-tests-signing-key").decode()
REPLICATE = "https://replicate.test"
SAFETY_LIMIT = 200


def configure(
    settings: Settings, *, base_url: str = REPLICATE, webhook_secret: str = WEBHOOK_SECRET
) -> None:
    """Replicate at `base_url`, and no waiting between retries."""
    settings.REPLICATE_BASE_URL = base_url
    settings.REPLICATE_API_TOKEN = "test"
    settings.REPLICATE_WEBHOOK_SECRET = webhook_secret
    settings.SUBMIT_RETRY_DELAY = 0
    settings.SUBMIT_RETRY_MAX_DELAY = 0
    settings.OUTPUT_COPY_RETRY_DELAY = 0


def submit(
    user: User, prompt: str = PROMPT, *, idempotency_key: str | None = None, **params: Any
) -> Generation:
    """A generation through the real submit action (t2v-1.3B 480p unless told otherwise)."""
    params.setdefault("model_key", "t2v-1.3B")
    params.setdefault("resolution", "480p")
    params.setdefault("aspect_ratio", "16:9")
    return submit_generation(
        user, GenerationParams(prompt=prompt, **params), idempotency_key=idempotency_key
    ).generation


def task_worker(worker_id: str, *, batch: bool, interval: float) -> Worker:
    """django-tasks-db's own worker, as `manage.py db_worker` makes it, on the default queue."""
    return Worker(
        queue_names=["default"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def run_tasks(max_tasks: int | None = None) -> None:
    """Runs the tasks that are due, one by one, as `manage.py db_worker --batch` does (whose
    loop would close the test's connection): all of them, or at most `max_tasks`. Fails the
    test if any task raised."""
    worker = task_worker("tests", batch=True, interval=0)
    for _ in range(max_tasks or SAFETY_LIMIT):
        with transaction.atomic():
            task_result = DBTaskResult.objects.ready().get_locked()
            if task_result is None:
                break
            task_result.claim(worker.worker_id)
        worker.run_task(task_result)
    else:
        assert max_tasks, f"tasks still due after running {SAFETY_LIMIT}: a loop?"
    failed = list(DBTaskResult.objects.failed().values_list("task_path", "traceback"))
    assert not failed, failed


def scheduled_tasks(task_name: str) -> list[DBTaskResult]:
    """Ready tasks of that name, due now or later."""
    return list(DBTaskResult.objects.filter(status="READY", task_path__endswith=f".{task_name}"))


def make_due(task_name: str) -> int:
    """Moves the delayed tasks of that name to now (the watchdog waits minutes otherwise)."""
    return DBTaskResult.objects.filter(status="READY", task_path__endswith=f".{task_name}").update(
        run_after=timezone.now()
    )


def sign(
    body: bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    webhook_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers, as Django's test client takes them."""
    webhook_id = webhook_id or f"msg_{secrets.token_hex(8)}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "HTTP_WEBHOOK_ID": webhook_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(timestamp),
        "HTTP_WEBHOOK_SIGNATURE": "v1," + base64.b64encode(digest).decode(),
    }


def post_webhook(
    client: Client, generation: Generation | int, prediction: dict[str, Any], **sign_options: Any
) -> TestResponse:
    body = json.dumps(prediction).encode()
    return post_webhook_body(client, generation, body, sign(body, **sign_options))


def post_webhook_body(
    client: Client, generation: Generation | int, body: bytes, headers: dict[str, str] | None = None
) -> TestResponse:
    """Any body to our webhook endpoint, with its signature unless other headers are given."""
    generation_id = generation if isinstance(generation, int) else generation.pk
    extra: dict[str, Any] = sign(body) if headers is None else headers
    return client.post(
        f"/api/webhooks/replicate?generation={generation_id}",
        data=body,
        content_type="application/json",
        **extra,
    )


def prediction(
    prediction_id: str = "pred-1", status: str = "starting", **fields: Any
) -> dict[str, Any]:
    """A prediction object shaped like Replicate's (the body of its webhooks)."""
    return {
        "id": prediction_id,
        "model": "wan-video/wan-2.1-1.3b",
        "version": "hidden",
        "input": {"prompt": PROMPT},
        "output": None,
        "logs": "",
        "error": None,
        "status": status,
        "data_removed": False,
        "created_at": timezone.now().isoformat(),
        "urls": {},
        **fields,
    }


def update(
    prediction_id: str = "pred-1", status: str = "starting", **fields: Any
) -> predictions.PredictionUpdate:
    """The same prediction as the actions see it."""
    return predictions.parse(prediction(prediction_id, status, **fields))


def refunds_of(generation: Generation) -> int:
    return CreditTransaction.objects.filter(
        generation=generation, type=TransactionType.REFUND
    ).count()


def assert_refunded_once(
    generation: Generation,
    status: str,
    reason: FailureReason | None = None,
    detail: str = "",
) -> None:
    """The generation, reloaded, ended in `status` (for `reason`, with `detail` in the words kept
    for staff) with its charge refunded exactly once."""
    generation.refresh_from_db()
    assert generation.status == status
    assert reason is None or generation.failure_reason == reason
    assert detail in generation.failure_detail
    assert refunds_of(generation) == 1


def tiny_mp4(frames: int = 4, size: tuple[int, int] = (64, 48)) -> bytes:
    """A real MP4 (MPEG-4 part 2, built into every PyAV) of a few coloured frames."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=16)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            image = Image.new("RGB", size, (40 * index % 256, 120, 200))
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())
    return buffer.getvalue()


def stored_files(media_root: Path) -> list[str]:
    """The files under `media_root`, relative to it, sorted."""
    return sorted(
        str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()
    )


def png(size: tuple[int, int] = (128, 96), *, noise: bool = False) -> SimpleUploadedFile:
    """An input image; with `noise`, one too large to send inline (a few hundred KB)."""
    image = (
        Image.frombytes("RGB", size, secrets.token_bytes(size[0] * size[1] * 3))
        if noise
        else Image.new("RGB", size, "teal")
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile("in.png", buffer.getvalue(), content_type="image/png")
