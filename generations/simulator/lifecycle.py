"""One prediction's life on its own thread: starting, processing with logs, then an ending.

Timing: `starting` takes a sixth of the configured duration, the sampling steps share the rest,
then the video is rendered. Waits end early when the prediction is canceled or the simulator
stops, so no thread outlives `ReplicateSimulator.stop()` by more than one render.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from .clips import Clip
from .config import SimulatorConfig
from .ids import utcnow
from .inputs import InputLoadError
from .markers import REJECTIONS, SLOW_FACTOR
from .predictions import Prediction, PredictionStore
from .takes import Loaders, Take, make_take
from .video import encode_pictures, render_video
from .wan_models import DEFAULT_STEPS, MODELS
from .webhooks import WebhookSender

logger = logging.getLogger(__name__)

_STARTING_SHARE = 1 / 6
_HANG_PERCENT = 20  # a hung prediction stops its progress here
_FAIL_PERCENT = 60
_OOM = "CUDA out of memory. Tried to allocate 2.00 GiB (simulated failure)"
_BAR = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True)
class _Job:
    seed: int
    steps: int
    width: int
    height: int
    image: Image.Image | None
    take: Take | None  # an editing model's output, made from its inputs


class PredictionRunner(threading.Thread):
    def __init__(
        self,
        prediction: Prediction,
        *,
        store: PredictionStore,
        config: SimulatorConfig,
        origin: str,
        sender: WebhookSender | None,
        load_image: Callable[[str], Image.Image],
        load_clip: Callable[[str, str], Clip],
        stopping: threading.Event,
    ) -> None:
        super().__init__(name=f"prediction-{prediction.id}", daemon=True)
        self.prediction = prediction
        self._store = store
        self._config = config
        self._origin = origin
        self._sender = sender
        self._load_image = load_image
        self._loaders = Loaders(image=load_image, clip=load_clip)
        self._stopping = stopping
        self._last_progress_webhook = float("-inf")
        self._stale: tuple[str, dict[str, Any]] | None = None

    def run(self) -> None:
        try:
            self._live()
        except Exception:
            logger.exception("prediction %s crashed", self.prediction.id)
            self._store.finish(self.prediction, "failed", error="Internal simulator error")
        if not self._stopping.is_set():
            self._send_completed()
        if self._sender:
            self._sender.close()

    def _live(self) -> None:
        self._webhook("start")
        if self._interrupted(self._duration * _STARTING_SHARE):
            return
        if self.prediction.behaviour.aborted:
            error = "Prediction aborted: its deadline passed before it started"
            self._store.finish(self.prediction, "aborted", error=error)
            return
        if self.prediction.behaviour.rejected in ("prompt", "image"):
            self._reject()  # checked before the run, as a provider checks the input
            return
        if not self._store.start_processing(self.prediction):
            return
        job = self._prepare()
        if not job or not self._sample(job.steps):
            return
        if self.prediction.behaviour.rejected == "output":
            self._reject()  # the finished video fails the check, so there is no output
            return
        self._render(job)

    @property
    def _duration(self) -> float:
        return self._config.duration * (SLOW_FACTOR if self.prediction.behaviour.slow else 1)

    def _prepare(self) -> _Job | None:
        """Reads the input as the model would; None when it fails (a bad input image)."""
        prediction = self.prediction
        model = MODELS[prediction.model]
        seed = _int(prediction.input.get("seed"), -1)
        seed = seed if seed >= 0 else random.randrange(2**31)
        self._log(f"Using seed: {seed}", f"Loading {prediction.model} ({model.resolution})")
        image = None
        try:
            if model.task == "i2v":
                image = self._load_image(prediction.input["image"])
            take = make_take(
                model,
                prediction.input,
                self._loaders,
                frames=self._config.frames,
                fps=self._config.fps,
                audio=prediction.audio,
                audio_seconds=prediction.audio_seconds,
            )
        except InputLoadError as error:
            self._log(f"Error: {error}")
            self._store.finish(prediction, "failed", error=str(error))
            return None
        if take is not None:
            width, height = take.pictures[0].size
        else:
            width, height = model.size(prediction.input, image.size if image else None)
        steps = _int(prediction.input.get("sample_steps"), DEFAULT_STEPS)
        frames = prediction.input.get("frame_num", prediction.input.get("num_frames", 81))
        self._log(
            f"Generating {frames} frames at {width}x{height} with {steps} sampling steps",
            _progress_line(0, steps, 0.0),
        )
        return _Job(seed, steps, width, height, image, take)

    def _sample(self, steps: int) -> bool:
        """The sampling loop's progress lines; True when it got to the end."""
        behaviour = self.prediction.behaviour
        started = time.monotonic()
        step_time = self._duration * (1 - _STARTING_SHARE) / steps
        for step in range(1, steps + 1):
            if self._interrupted(step_time):
                return False
            self._log(_progress_line(step, steps, time.monotonic() - started))
            percent = 100 * step // steps
            if behaviour.hang and percent >= _HANG_PERCENT:
                self._interrupted(None)  # until canceled or stopped
                return False
            if behaviour.fail and percent >= _FAIL_PERCENT:
                self._log("Traceback (most recent call last):", f"torch.OutOfMemoryError: {_OOM}")
                self._store.finish(self.prediction, "failed", error=_OOM)
                return False
        return True

    def _render(self, job: _Job) -> None:
        prediction = self.prediction
        self._log(f"Decoding latents and writing {self._config.frames} frames to output.mp4")
        faststart = not prediction.behaviour.moov_last
        pixel_format = prediction.behaviour.pixel_format
        if job.take is not None:
            video = encode_pictures(
                job.take.pictures, job.take.fps, faststart, pixel_format, job.take.audio
            )
        else:
            video = render_video(
                prediction.input["prompt"],
                job.width,
                job.height,
                frames=self._config.frames,
                fps=self._config.fps,
                seed=job.seed,
                image=job.image,
                faststart=faststart,
                pixel_format=pixel_format,
                audio=prediction.audio,
            )
        output = f"{self._origin}/delivery/{prediction.id}/output.mp4"
        if self._store.set_output(prediction, output, video):  # False once canceled
            self._webhook("output")
            self._store.finish(prediction, "succeeded")

    def _reject(self) -> None:
        error = REJECTIONS[self.prediction.behaviour.rejected]
        self._log(f"Error: {error}")
        self._store.finish(self.prediction, "failed", error=error)

    def _interrupted(self, seconds: float | None) -> bool:
        """Sleeps; True when woken by a cancel, the deadline or shutdown instead."""
        deadline = self.prediction.deadline
        if deadline is not None:
            left = max((deadline - utcnow()).total_seconds(), 0.0)
            if seconds is None or left < seconds:
                if not self.prediction.wake.wait(left):
                    self._store.expire(self.prediction)
                return True
        return self.prediction.wake.wait(seconds)

    def _log(self, *lines: str) -> None:
        self._store.append_logs(self.prediction, *lines)
        self._webhook("logs")

    def _webhook(self, event: str) -> None:
        # Once ended (e.g. canceled) only the completed webhook goes out, from run().
        if not self._sender or event not in self.prediction.events or self.prediction.done.is_set():
            return
        if event in ("logs", "output"):  # throttled, as Replicate does; the rest is dropped
            now = time.monotonic()
            if now - self._last_progress_webhook < self._config.webhook_throttle:
                return
            self._last_progress_webhook = now
        payload = self._store.snapshot(self.prediction, self._origin)
        if event == "logs" or self._stale is None:
            self._stale = (event, payload)
        self._send(event, payload, retry=False)

    def _send_completed(self) -> None:
        if not self._sender or "completed" not in self.prediction.events:
            return
        self._send("completed", self._store.snapshot(self.prediction, self._origin), retry=True)
        if self.prediction.behaviour.out_of_order and self._stale:
            self._send(*self._stale, retry=False)

    def _send(self, event: str, payload: dict[str, Any], *, retry: bool) -> None:
        assert self._sender
        copies = 2 if self.prediction.behaviour.duplicate_webhooks else 1
        self._sender.send(event, payload, retry=retry, copies=copies)


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _progress_line(done: int, total: int, elapsed: float) -> str:
    """A tqdm line like Wan's sampler prints, e.g. ` 40%|████      | 12/30 [00:02<00:03, ...]`."""
    fraction = done / total
    eighths = round(fraction * 80)
    bar = ("█" * (eighths // 8) + (_BAR[eighths % 8] if eighths % 8 else "")).ljust(10)
    if done == 0:
        return f"  0%|{bar}| 0/{total} [00:00<?, ?it/s]"
    per_step = elapsed / done
    remaining = per_step * (total - done)
    return (
        f"{round(fraction * 100):3d}%|{bar}| {done}/{total} "
        f"[{_clock(elapsed)}<{_clock(remaining)}, {per_step:.2f}s/it]"
    )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
