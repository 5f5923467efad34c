"""`ReplicateSimulator`: the server object that tests, `make run` and the command start and stop."""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Self

import httpx
from PIL import Image

from .audio import load_audio
from .clips import Clip, load_clip
from .config import SimulatorConfig
from .files import FileStore
from .http_api import ApiError, SimulatorHTTPServer
from .ids import utcnow
from .images import load_image
from .inputs import InputLoadError
from .lifecycle import PredictionRunner
from .markers import Behaviour, markers
from .predictions import Prediction, PredictionStore
from .wan_models import MODELS, WanModel
from .webhooks import WebhookAttempt, WebhookSender, key_bytes

# Built per request: exceptions carry a traceback, so threads must not share one instance.
_REJECTIONS: dict[str, Callable[[], ApiError]] = {
    "create-429": lambda: ApiError(
        429,
        "Request was throttled. Expected available in 1 second.",
        headers={"Retry-After": "1"},
    ),
    "create-500": lambda: ApiError(500, "Internal server error"),
}


class ReplicateSimulator:
    """A local stand-in for api.replicate.com, served over real HTTP from a daemon thread.

    >>> sim = ReplicateSimulator(duration=0.3, frames=8).start()
    >>> client = replicate.Client(api_token="test", base_url=sim.base_url)
    >>> sim.stop()

    Options are the fields of `SimulatorConfig`, given as a config, keywords, or both.
    """

    def __init__(self, config: SimulatorConfig | None = None, /, **options: Any) -> None:
        self.config = dataclasses.replace(config or SimulatorConfig(), **options)
        self._key = key_bytes(self.config.webhook_secret)  # fails early on a malformed secret
        self.store = PredictionStore(retention=self.config.data_retention)
        self.files = FileStore()
        self._lock = threading.Lock()
        self._models: dict[str, WanModel] = dict(MODELS)
        self._webhook_log: list[WebhookAttempt] = []
        self._rejected: collections.Counter[tuple[str, str]] = collections.Counter()
        self._threads: list[PredictionRunner | WebhookSender] = []
        self._stopping = threading.Event()
        self._httpd: SimulatorHTTPServer | None = None
        self._serve_thread: threading.Thread | None = None
        self._http: httpx.Client | None = None

    # Lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("simulator already started")
        self._httpd = SimulatorHTTPServer((self.config.host, self.config.port), self)
        # Webhooks never follow redirects, as on Replicate.
        self._http = httpx.Client(timeout=self.config.webhook_timeout, follow_redirects=False)
        self._serve_thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="replicate-simulator",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stops serving, ends running predictions without webhooks, joins threads (bounded)."""
        if self._httpd is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        for prediction in self.store.all():
            prediction.wake.set()
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in [self._serve_thread, *threads]:
            if thread is not None:
                thread.join(max(deadline - time.monotonic(), 0))
        if self._http is not None and not any(thread.is_alive() for thread in threads):
            self._http.close()  # else a sender still uses it; the daemon thread dies with us

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Inspection, for tests and demos ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What to give `replicate.Client(base_url=...)`; also the origin of output URLs."""
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        if self._httpd is None:
            raise RuntimeError("simulator not started")
        host, port = self._httpd.server_address[:2]
        if not isinstance(host, str):  # an AF_INET/AF_INET6 socket's name is a str
            raise RuntimeError(f"unexpected server address {host!r}")
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 (comparison only)
        return f"http://{host}:{port}"

    @property
    def webhook_secret(self) -> str:
        return self.config.webhook_secret

    @property
    def predictions(self) -> dict[str, dict[str, Any]]:
        """Every prediction's JSON by id, newest first."""
        return {p.id: self.store.snapshot(p, self.base_url) for p in self.store.all()}

    @property
    def webhook_log(self) -> list[WebhookAttempt]:
        """Every webhook POST so far, in the order sent, with the status code received."""
        with self._lock:
            return list(self._webhook_log)

    def model(self, name: str) -> WanModel | None:
        """The model `owner/name` as it runs now (its schema), or None for one not served."""
        with self._lock:
            return self._models.get(name)

    def change_model(self, name: str, model: WanModel) -> None:
        """Runs `name` with another schema from now on, as when its owner pushes a new version
        to Replicate: predictions are checked against it and its page shows it."""
        with self._lock:
            if name not in self._models:
                raise KeyError(f"the simulator does not run {name}")
            self._models[name] = model

    def prediction(self, prediction_id: str) -> dict[str, Any]:
        return self.store.snapshot(self._get(prediction_id), self.base_url)

    def wait_for(self, prediction_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The prediction's JSON once it has ended; TimeoutError if it has not within timeout."""
        prediction = self._get(prediction_id)
        if not prediction.done.wait(timeout):
            raise TimeoutError(f"prediction {prediction_id} still {prediction.status}")
        return self.store.snapshot(prediction, self.base_url)

    @property
    def is_idle(self) -> bool:
        """Every prediction has ended and its webhooks are sent (or given up): nothing more will
        come from this simulator until a new prediction is created."""
        with self._lock:
            return not any(thread.is_alive() for thread in self._threads)

    def remove_data(self, prediction_id: str) -> None:
        """Does now what Replicate does an hour after completion: drops input, output and logs."""
        self.store.remove_data(self._get(prediction_id))

    def output_video(self, prediction_id: str) -> bytes | None:
        prediction = self.store.get(prediction_id)
        return prediction.video if prediction else None

    # Operations behind the HTTP API ----------------------------------------------------------

    def submit(
        self,
        model: str,
        model_input: dict[str, Any],
        webhook: str | None,
        events: frozenset[str],
        cancel_after: float | None = None,
    ) -> Prediction:
        behaviour = Behaviour.for_prompt(model_input.get("prompt", ""), self.config)
        created = utcnow()
        deadline = created + timedelta(seconds=cancel_after) if cancel_after else None
        prediction = self.store.add(
            model=model,
            input=model_input,
            behaviour=behaviour,
            events=events,
            created_at=created,
            deadline=deadline,
        )
        if "audio" in model_input:
            self._check_audio(prediction)
        sender = None
        if webhook and behaviour.webhooks and self._http is not None:
            sender = WebhookSender(
                url=webhook,
                prediction_id=prediction.id,
                key=self._key,
                client=self._http,
                retry_delays=self.config.webhook_retry_delays,
                stopping=self._stopping,
                record=self._record_webhook,
            )
            sender.start()
        runner = PredictionRunner(
            prediction,
            store=self.store,
            config=self.config,
            origin=self.base_url,
            sender=sender,
            load_image=self._load_image,
            load_clip=self._load_clip,
            stopping=self._stopping,
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.extend([runner, sender] if sender else [runner])
        runner.start()
        if self._stopping.is_set():  # stop() ran meanwhile and may have missed this one
            prediction.wake.set()
        return prediction

    def cancel(self, prediction_id: str) -> dict[str, Any]:
        prediction = self._get(prediction_id)
        self.store.finish(prediction, "canceled")  # no-op once terminal
        return self.store.snapshot(prediction, self.base_url)

    def reject_create_if_asked(self, prompt: str) -> None:
        """Raises the 429 or 500 that a `[create-429xN]`/`[create-500xN]` marker asks for."""
        for marker, times in markers(prompt).items():
            if marker not in _REJECTIONS:
                continue
            with self._lock:
                if times is not None and self._rejected[marker, prompt] >= times:
                    continue
                self._rejected[marker, prompt] += 1
            raise _REJECTIONS[marker]()

    # Internals -------------------------------------------------------------------------------

    def _get(self, prediction_id: str) -> Prediction:
        prediction = self.store.get(prediction_id)
        if prediction is None:
            raise ApiError(404, "Not found")
        return prediction

    def _record_webhook(self, attempt: WebhookAttempt) -> None:
        with self._lock:
            self._webhook_log.append(attempt)

    def _load_image(self, url: str) -> Image.Image:
        return load_image(
            url, local_content=self._local_content, max_bytes=self.config.max_image_bytes
        )

    def _load_clip(self, url: str, name: str) -> Clip:
        return load_clip(
            url, name=name, local_content=self._local_content, max_bytes=self.config.max_video_bytes
        )

    def _check_audio(self, prediction: Prediction) -> None:
        """Fetches and decodes the audio track before the run, as the model's setup does; one it
        cannot use fails the prediction at once (its runner then only sends the webhooks)."""
        try:
            track = load_audio(
                prediction.input["audio"],
                local_content=self._local_content,
                max_bytes=self.config.max_audio_bytes,
            )
        except InputLoadError as error:
            self.store.append_logs(prediction, f"Error: {error}")
            self.store.finish(prediction, "failed", error=str(error))
        else:
            prediction.audio, prediction.audio_seconds = track.data, track.seconds
            self.store.append_logs(prediction, f"Loaded the audio track: {track.seconds:.1f} s")

    def _local_content(self, url: str) -> bytes | None:
        return self.files.content_for_url(url, self.base_url)
