"""Reading Replicate's prediction objects (webhook bodies and API answers) into our terms.

Pure functions: nothing here touches the database or the network.
"""

from __future__ import annotations

import re
from typing import Any

from generations.models import Status

# Every status in Replicate's OpenAPI description. `aborted` (ended before it started) and any
# status we do not know that comes with a completion time are failures for us.
REPLICATE_STATUSES = {
    "starting": Status.STARTING,
    "processing": Status.PROCESSING,
    "succeeded": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "canceled": Status.CANCELED,
    "aborted": Status.FAILED,
}
REPLICATE_TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
# Replicate's status only moves forward too: a late `processing` never replaces `succeeded`.
REPLICATE_RANK = {"": 0, "starting": 1, "processing": 2}
TERMINAL_RANK = 3
ERROR_MAX_LENGTH = 500
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


def error_message(prediction: dict[str, Any]) -> str:
    """A sentence for the user about why the prediction did not produce a video."""
    status = status_of(prediction)
    error = str(prediction.get("error") or "").strip()
    if status == "canceled":
        return "The generation was canceled."
    if status == "aborted":
        return "Replicate stopped the generation before it started."
    if error:
        return f"The model failed: {error}"[:ERROR_MAX_LENGTH]
    if status in REPLICATE_STATUSES:
        return "The model failed without giving a reason."
    return f"Replicate ended the generation with an unknown status ({status[:40]})."


def is_wellformed(prediction: Any) -> bool:
    """The minimum a webhook body or API answer must have for us to act on it."""
    return (
        isinstance(prediction, dict)
        and isinstance(prediction.get("id"), str)
        and 0 < len(prediction["id"]) <= 64
        and isinstance(prediction.get("status"), str)
        and 0 < len(prediction["status"]) <= 20
    )
