"""Settings of one simulator instance; every knob the command line and the tests can turn."""

from __future__ import annotations

from dataclasses import dataclass

# A fixed, public key so `make run`, the tests and the README agree without any setup. It signs
# webhooks from a local simulator only; it is not a credential for anything.
DEFAULT_WEBHOOK_SECRET = "whsec_d2FuLXB3YS1sb2NhbC1yZXBsaWNhdGUtc2ltdWxhdHI="  # noqa: S105

WEBHOOK_EVENTS = ("start", "output", "logs", "completed")


@dataclass(frozen=True)
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 asks the OS for a free port (tests); the command defaults to 8001
    # The origin put into URLs we hand out (prediction urls, outputs), when clients reach the
    # server under another name than host:port, e.g. from a container.
    public_url: str | None = None
    token: str | None = None  # None accepts any non-empty bearer token
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    duration: float = 4.0  # seconds from created to completed (excluding rendering)
    frames: int = 40  # frames of the output video; 40 at 16 fps is 2.5 s
    fps: int = 16  # Wan 2.1's native rate
    fail_rate: float = 0.0  # chance that any prediction fails, 0..1
    no_webhooks: bool = False
    duplicate_webhooks: bool = False
    out_of_order: bool = False
    webhook_throttle: float = 0.5  # Replicate sends logs/output webhooks at most every 500 ms
    webhook_timeout: float = 5.0
    # Pauses before each retry of the terminal webhook; Replicate's last try is about a minute
    # after completion, this stays short so demos and tests see it.
    webhook_retry_delays: tuple[float, ...] = (0.5, 2.0, 5.0)
    page_size: int = 100  # predictions per list page, as on Replicate
    min_cancel_after: float = 5.0  # Replicate refuses a shorter Cancel-After header (seconds)
    # Replicate removes inputs, outputs and logs an hour after an API prediction completes.
    data_retention: float | None = 3600.0
    max_image_bytes: int = 10 * 1024 * 1024
    max_audio_bytes: int = 15 * 1024 * 1024  # Wan 2.5's limit on an audio track
    max_video_bytes: int = 100 * 1024 * 1024  # the editing models' limit on a source video
    max_upload_bytes: int = 100 * 1024 * 1024  # Replicate's files API limit

    def __post_init__(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.duration < 0 or self.frames < 1 or self.fps < 1 or self.page_size < 1:
            raise ValueError("duration must be >= 0; frames, fps and page_size >= 1")
