"""Reading Replicate's prediction objects (webhook bodies and API answers) into our terms: a
typed PredictionUpdate, the only thing the actions see of them.

Pure functions: nothing here touches the database or the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.utils.dateparse import parse_datetime

from generations import moderation
from generations.failures import REJECTIONS, FailureReason
from generations.models import Status


class ReplicateStatus(StrEnum):
    """Every status in Replicate's OpenAPI description."""

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    ABORTED = "aborted"  # ended before it started


# `aborted` and any status we do not know that comes with a completion time are failures for us.
REPLICATE_STATUSES: dict[str, Status] = {
    ReplicateStatus.STARTING: Status.STARTING,
    ReplicateStatus.PROCESSING: Status.PROCESSING,
    ReplicateStatus.SUCCEEDED: Status.SUCCEEDED,
    ReplicateStatus.FAILED: Status.FAILED,
    ReplicateStatus.CANCELED: Status.CANCELED,
    ReplicateStatus.ABORTED: Status.FAILED,
}
REPLICATE_TERMINAL = frozenset(
    {
        ReplicateStatus.SUCCEEDED,
        ReplicateStatus.FAILED,
        ReplicateStatus.CANCELED,
        ReplicateStatus.ABORTED,
    }
)
# Replicate's status only moves forward too: a late `processing` never replaces `succeeded`.
REPLICATE_RANK = {"": 0, ReplicateStatus.STARTING: 1, ReplicateStatus.PROCESSING: 2}
TERMINAL_RANK = 3
STATUS_MAX_LENGTH = 20  # Generation.replicate_status
URL_MAX_LENGTH = 2000  # Generation.output_url

_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s?%")


def status_of(prediction: dict[str, Any]) -> str:
    return str(prediction.get("status") or "")


def is_terminal(prediction: dict[str, Any]) -> bool:
    status = status_of(prediction)
    return status in REPLICATE_TERMINAL or (
        status not in REPLICATE_STATUSES and bool(prediction.get("completed_at"))
    )


def our_status(prediction: dict[str, Any]) -> Status | None:
    """The status a prediction means for us; None for an unknown status still running."""
    status = status_of(prediction)
    if status in REPLICATE_STATUSES:
        return REPLICATE_STATUSES[status]
    return Status.FAILED if is_terminal(prediction) else None


def replicate_rank(status: str) -> int:
    if status in REPLICATE_TERMINAL:
        return TERMINAL_RANK
    return REPLICATE_RANK.get(status, TERMINAL_RANK if status else 0)


def progress_of(logs: Any) -> int | None:
    """The last percentage written in the model's logs (e.g. a tqdm bar), 0-100, or None."""
    if not isinstance(logs, str):
        return None
    found = None
    for match in _PERCENT.finditer(logs):
        value = float(match[1])
        if value <= 100:
            found = int(value)
    return found


def output_url(prediction: dict[str, Any]) -> str:
    """The video URL in the output: Wan models give one URL, some models a list of them."""
    output = prediction.get("output")
    if isinstance(output, list):
        output = next((item for item in output if isinstance(item, str)), None)
    if (
        isinstance(output, str)
        and output.startswith(("https://", "http://"))
        and len(output) <= URL_MAX_LENGTH
    ):
        return output
    return ""


def failure_of(prediction: dict[str, Any]) -> tuple[FailureReason, str]:
    """Why the prediction did not produce a video, and Replicate's own words about it (for
    staff; whole, so the safety checker's words are read in full: the action cuts them to the
    column)."""
    status = status_of(prediction)
    error = str(prediction.get("error") or "").strip()
    if status == ReplicateStatus.CANCELED and past_deadline(prediction):
        return FailureReason.DEADLINE, error
    if status == ReplicateStatus.CANCELED:
        return FailureReason.CANCELED_AT_REPLICATE, error
    if status == ReplicateStatus.ABORTED:
        return FailureReason.EXPIRED_BEFORE_START, error
    if error and (rejected := moderation.rejection_in(error, had_image=_had_image(prediction))):
        return REJECTIONS[rejected], error
    if status in REPLICATE_STATUSES:
        return FailureReason.PROVIDER_ERROR, error
    return FailureReason.UNKNOWN_STATUS, f"{status[:40]}: {error}" if error else status[:40]


def _had_image(prediction: dict[str, Any]) -> bool:
    # Replicate echoes the input in every prediction object: webhooks and API answers alike.
    given = prediction.get("input")
    return isinstance(given, dict) and bool(given.get("image"))


def past_deadline(prediction: dict[str, Any]) -> bool:
    """Whether the prediction ended at or after its Cancel-After deadline (Replicate then cancels
    a running prediction: a failure for us, not a cancel anybody asked for)."""
    deadline, completed = prediction.get("deadline"), prediction.get("completed_at")
    if not isinstance(deadline, str) or not isinstance(completed, str):
        return False
    try:
        deadline_at, completed_at = parse_datetime(deadline), parse_datetime(completed)
    except ValueError:  # well formatted, but not a date
        return False
    return bool(deadline_at and completed_at and completed_at >= deadline_at)


def is_wellformed(prediction: Any) -> bool:
    """The minimum a webhook body or API answer must have for us to act on it."""
    return (
        isinstance(prediction, dict)
        and isinstance(prediction.get("id"), str)
        and 0 < len(prediction["id"]) <= 64
        and isinstance(prediction.get("status"), str)
        and 0 < len(prediction["status"]) <= 20
    )


@dataclass(frozen=True)
class PredictionUpdate:
    """What one prediction object says, in our terms."""

    prediction_id: str
    replicate_status: str  # Replicate's own word, kept for staff
    status: Status | None  # ours; None for a status we do not know that is still running
    is_terminal: bool
    progress: int | None  # from the logs' percentages
    output_url: str  # the video, when it succeeded and one was given
    failure_reason: FailureReason | None  # why it ended without a video
    failure_detail: str  # Replicate's own words about it, for staff
    started_at: datetime | None

    @property
    def is_running(self) -> bool:
        """Starting or processing: news that only moves a generation forward."""
        return not self.is_terminal and self.status in (Status.STARTING, Status.PROCESSING)


def parse(prediction: dict[str, Any]) -> PredictionUpdate:
    """The update a well-formed prediction (see is_wellformed) carries."""
    started = prediction.get("started_at")
    url = output_url(prediction)
    status = our_status(prediction)
    if status == Status.CANCELED and past_deadline(prediction):
        status = Status.FAILED
    reason, detail = None, ""
    if status in (Status.FAILED, Status.CANCELED):
        reason, detail = failure_of(prediction)
    elif status == Status.SUCCEEDED and not url:
        removed = prediction.get("data_removed")
        reason = FailureReason.OUTPUT_REMOVED if removed else FailureReason.NO_OUTPUT
    return PredictionUpdate(
        prediction_id=prediction["id"],
        replicate_status=status_of(prediction)[:STATUS_MAX_LENGTH],
        status=status,
        is_terminal=is_terminal(prediction),
        progress=progress_of(prediction.get("logs")),
        output_url=url,
        failure_reason=reason,
        failure_detail=detail,
        started_at=parse_datetime(started) if isinstance(started, str) else None,
    )
