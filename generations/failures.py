"""Why a generation failed or was canceled, as data.

Every place that ends a generation without a video gives one FailureReason; the generation
stores it (a stable code: retry rules, the dashboard and the API read it) beside the provider's
raw detail (shown to staff only). The sentence users read is rendered from the reason, so it can
be reworded without changing what old rows mean.
"""

from __future__ import annotations

from django.db import models

from generations.moderation import MESSAGES as REJECTION_MESSAGES
from generations.moderation import Rejected


class FailureReason(models.TextChoices):
    # The model's safety checker (generations.moderation) rejected...
    REJECTED_PROMPT = "rejected_prompt", "Safety checker: the prompt"
    REJECTED_IMAGE = "rejected_image", "Safety checker: the input image"
    REJECTED_INPUT = "rejected_input", "Safety checker: the prompt or the input image"
    REJECTED_OUTPUT = "rejected_output", "Safety checker: the video"
    REJECTED_UNSAID = "rejected_unsaid", "Safety checker: the input or the video"
    # Replicate ended the prediction without a video.
    PROVIDER_ERROR = "provider_error", "The model failed"
    UNKNOWN_STATUS = "unknown_status", "Replicate ended it with an unknown status"
    DEADLINE = "deadline", "Ran past its deadline at Replicate"
    EXPIRED_BEFORE_START = "expired_before_start", "Deadline passed before it started"
    CANCELED_AT_REPLICATE = "canceled_at_replicate", "Canceled at Replicate"
    OUTPUT_REMOVED = "output_removed", "Replicate deleted the video before the copy"
    NO_OUTPUT = "no_output", "Replicate succeeded without a video"
    # Our side: submitting, watching, copying.
    SUBMISSION_REFUSED = "submission_refused", "Replicate refused the submission"
    SUBMISSION_GAVE_UP = "submission_gave_up", "Submission gave up after transient errors"
    NEVER_SUBMITTED = "never_submitted", "Never reached Replicate"
    LOST = "lost", "Replicate no longer knows the prediction"
    TIMED_OUT = "timed_out", "Not finished in time"
    UNREPORTED = "unreported", "No report in time"
    OUTPUT_NOT_SAVED = "output_not_saved", "The video could not be copied"
    # Canceled by a person.
    CANCELED_BY_USER = "canceled_by_user", "Canceled by the user"
    CANCELED_BY_STAFF = "canceled_by_staff", "Canceled by staff"
    ACCOUNT_SUSPENDED = "account_suspended", "Canceled: account suspended"
    ACCOUNT_DELETED = "account_deleted", "Canceled: account deleted"


REASON_MAX_LENGTH = 30
DETAIL_MAX_LENGTH = 500

REJECTIONS = {
    Rejected.PROMPT: FailureReason.REJECTED_PROMPT,
    Rejected.IMAGE: FailureReason.REJECTED_IMAGE,
    Rejected.INPUT: FailureReason.REJECTED_INPUT,
    Rejected.OUTPUT: FailureReason.REJECTED_OUTPUT,
    Rejected.UNSAID: FailureReason.REJECTED_UNSAID,
}
_REJECTED_BY_REASON = {reason: part for part, reason in REJECTIONS.items()}

# What the user reads, for each reason (the card, the detail page, the API, the refund line).
SENTENCES: dict[str, str] = {
    **{REJECTIONS[part]: sentence for part, sentence in REJECTION_MESSAGES.items()},
    FailureReason.PROVIDER_ERROR: "The model failed while making the video.",
    FailureReason.UNKNOWN_STATUS: "Replicate ended the generation with a status we do not know.",
    FailureReason.DEADLINE: "Replicate stopped the generation: it ran past its deadline.",
    FailureReason.EXPIRED_BEFORE_START: (
        "Replicate stopped the generation before it started: its deadline passed."
    ),
    FailureReason.CANCELED_AT_REPLICATE: "The generation was canceled at Replicate.",
    FailureReason.OUTPUT_REMOVED: "Replicate deleted the video before it could be saved.",
    FailureReason.NO_OUTPUT: "Replicate reported success but sent no video.",
    FailureReason.SUBMISSION_REFUSED: "Replicate refused to start the generation.",
    FailureReason.SUBMISSION_GAVE_UP: (
        "Replicate could not start the generation after several attempts."
    ),
    FailureReason.NEVER_SUBMITTED: "The generation could not be sent to Replicate.",
    FailureReason.LOST: "Replicate no longer knows this generation.",
    FailureReason.TIMED_OUT: "Replicate did not finish the generation in time.",
    FailureReason.UNREPORTED: "Replicate did not report on the generation in time.",
    FailureReason.OUTPUT_NOT_SAVED: "The video could not be saved.",
    FailureReason.CANCELED_BY_USER: "Canceled at your request.",
    FailureReason.CANCELED_BY_STAFF: "Canceled by our staff.",
    FailureReason.ACCOUNT_SUSPENDED: "Canceled because the account was suspended.",
    FailureReason.ACCOUNT_DELETED: "Canceled because the account was deleted.",
}


def sentence_of(reason: str) -> str:
    """The user's sentence for a stored reason ("" for none)."""
    return SENTENCES.get(reason, "") if reason else ""


def rejected_part(reason: str) -> Rejected | None:
    """What the safety checker rejected, when the reason is a rejection."""
    return _REJECTED_BY_REASON.get(reason)  # type: ignore[call-overload]
