"""Prediction records and the thread-safe store that every status change goes through."""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .ids import new_id, timestamp, utcnow
from .markers import Behaviour

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})


class CursorError(ValueError):
    """A list cursor this server did not hand out."""


@dataclass
class Prediction:
    model: str
    input: dict[str, Any]
    behaviour: Behaviour
    events: frozenset[str]  # webhook events to send
    seq: int
    id: str = field(default_factory=new_id)
    status: str = "starting"
    logs: list[str] = field(default_factory=list)
    output: str | None = None
    video: bytes | None = None
    audio: bytes | None = None  # the input track, checked at creation; the video carries it
    audio_seconds: float | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    data_removed: bool = False
    deadline: datetime | None = None  # from the Cancel-After header
    # Set on cancel and on shutdown, so the runner's waits end at once.
    wake: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def to_json(self, origin: str) -> dict[str, Any]:
        api = f"{origin}/v1/predictions/{self.id}"
        metrics: dict[str, float] = {}
        if self.completed_at:
            metrics["total_time"] = (self.completed_at - self.created_at).total_seconds()
            if self.started_at:
                metrics["predict_time"] = (self.completed_at - self.started_at).total_seconds()
        return {
            "id": self.id,
            "model": self.model,
            "version": "hidden",  # what official models report
            "input": copy.deepcopy(self.input),
            "logs": "\n".join(self.logs),
            "output": self.output,
            "data_removed": self.data_removed,
            "error": self.error,
            "status": self.status,
            "source": "api",
            "created_at": timestamp(self.created_at),
            "started_at": timestamp(self.started_at) if self.started_at else None,
            "completed_at": timestamp(self.completed_at) if self.completed_at else None,
            "metrics": metrics,
            **({"deadline": timestamp(self.deadline)} if self.deadline else {}),
            "urls": {"get": api, "cancel": f"{api}/cancel", "web": f"{origin}/p/{self.id}"},
        }


class PredictionStore:
    def __init__(self, retention: float | None) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Prediction] = {}
        self._seq = itertools.count(1)
        self._retention = retention

    def add(self, **fields: Any) -> Prediction:
        with self._lock:
            prediction = Prediction(seq=next(self._seq), **fields)
            self._items[prediction.id] = prediction
        return prediction

    def get(self, prediction_id: str) -> Prediction | None:
        with self._lock:
            self._expire()
            return self._items.get(prediction_id)

    def all(self) -> list[Prediction]:
        with self._lock:
            self._expire()
            return sorted(self._items.values(), key=lambda p: p.seq, reverse=True)

    def snapshot(self, prediction: Prediction, origin: str) -> dict[str, Any]:
        """The prediction's JSON as of now, consistent even while its runner changes it."""
        with self._lock:
            return prediction.to_json(origin)

    def append_logs(self, prediction: Prediction, *lines: str) -> None:
        with self._lock:
            if prediction.status not in TERMINAL:
                prediction.logs.extend(lines)

    def start_processing(self, prediction: Prediction) -> bool:
        with self._lock:
            if prediction.status != "starting":
                return False
            prediction.status = "processing"
            prediction.started_at = utcnow()
            return True

    def set_output(self, prediction: Prediction, output: str, video: bytes) -> bool:
        with self._lock:
            if prediction.status in TERMINAL:
                return False
            prediction.output, prediction.video = output, video
            return True

    def finish(self, prediction: Prediction, status: str, error: str | None = None) -> bool:
        """Moves to a terminal status unless already terminal: the first ending wins."""
        assert status in TERMINAL
        with self._lock:
            if prediction.status in TERMINAL:
                return False
            prediction.status, prediction.error = status, error
            prediction.completed_at = utcnow()
            if status != "succeeded":
                prediction.output = prediction.video = None
        prediction.done.set()
        prediction.wake.set()
        return True

    def expire(self, prediction: Prediction) -> bool:
        """Its deadline passed: `aborted` if it never started, else `canceled`, as on Replicate."""
        with self._lock:
            started = prediction.status != "starting"
        if started:
            return self.finish(prediction, "canceled")
        error = "Prediction deadline passed before it started"
        return self.finish(prediction, "aborted", error=error)

    def remove_data(self, prediction: Prediction) -> None:
        with self._lock:
            self._remove_data(prediction)

    def page(
        self, cursor: str | None, size: int
    ) -> tuple[list[Prediction], str | None, str | None]:
        """Newest first: (page, cursor of the next older page, cursor of the previous newer one)."""
        items = self.all()
        start, end = 0, size
        if cursor:
            direction, seq = _decode_cursor(cursor)
            if direction == "n":  # older than seq
                start = next((i for i, p in enumerate(items) if p.seq < seq), len(items))
                end = start + size
            else:  # newer than seq, the ones closest to it
                end = next((i for i, p in enumerate(items) if p.seq <= seq), len(items))
                start = max(end - size, 0)
        results = items[start:end]
        older = _encode_cursor("n", results[-1].seq) if results and end < len(items) else None
        newer = _encode_cursor("p", results[0].seq) if results and start > 0 else None
        return results, older, newer

    def _expire(self) -> None:
        if self._retention is None:
            return
        cutoff = utcnow() - timedelta(seconds=self._retention)
        for prediction in self._items.values():
            if prediction.completed_at and prediction.completed_at < cutoff:
                self._remove_data(prediction)

    @staticmethod
    def _remove_data(prediction: Prediction) -> None:
        if prediction.status in TERMINAL and not prediction.data_removed:
            prediction.input, prediction.logs = {}, []
            prediction.output = prediction.video = None
            prediction.data_removed = True


def _encode_cursor(direction: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{direction}:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        direction, seq = raw.split(":")
        if direction not in ("n", "p"):
            raise ValueError(direction)
        return direction, int(seq)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError("Invalid cursor") from None
