"""The data migration to failure reasons: every sentence stored before gets its reason, the
provider's words move to the detail, and a sentence nobody wrote down becomes a provider error.
Old rows then follow the rules of their reason (a rejected prompt still cannot be retried)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from generations.failures import FailureReason
from generations.models import Generation, Status

BEFORE = [("generations", "0009_generation_input_audio")]

OLD_ROWS = [
    # (status, the sentence stored, the reason expected, the detail expected)
    (
        "failed",
        "The model's safety checker rejected the prompt.",
        FailureReason.REJECTED_PROMPT,
        "",
    ),
    (
        "failed",
        "The model failed: CUDA out of memory",
        FailureReason.PROVIDER_ERROR,
        "CUDA out of memory",
    ),
    ("failed", "The model failed without giving a reason.", FailureReason.PROVIDER_ERROR, ""),
    (
        "failed",
        "Replicate could not start the generation: Service unavailable. Gave up after 3 "
        "attempts; your credits were refunded.",
        FailureReason.SUBMISSION_GAVE_UP,
        "Replicate could not start the generation: Service unavailable. Gave up after 3 attempts",
    ),
    (
        "failed",
        "Replicate could not start the generation: Unauthenticated. Your credits were refunded.",
        FailureReason.SUBMISSION_REFUSED,
        "Replicate could not start the generation: Unauthenticated.",
    ),
    (
        "failed",
        "The video could not be saved: The output is not an MP4 video. Your credits were refunded.",
        FailureReason.OUTPUT_NOT_SAVED,
        "The output is not an MP4 video.",
    ),
    (
        "failed",
        "Replicate ended the generation with an unknown status (exploded).",
        FailureReason.UNKNOWN_STATUS,
        "exploded",
    ),
    (
        "failed",
        "Replicate stopped the generation before it started.",  # an earlier wording
        FailureReason.EXPIRED_BEFORE_START,
        "",
    ),
    (
        "failed",
        "Replicate did not finish the generation in time; your credits were refunded.",
        FailureReason.TIMED_OUT,
        "",
    ),
    (
        "failed",
        "Something went sideways.",
        FailureReason.PROVIDER_ERROR,
        "Something went sideways.",
    ),
    (
        "canceled",
        "Canceled because the account was suspended.",
        FailureReason.ACCOUNT_SUSPENDED,
        "",
    ),
    ("canceled", "The generation was canceled.", FailureReason.CANCELED_AT_REPLICATE, ""),
    ("canceled", "", FailureReason.CANCELED_BY_USER, ""),
    ("queued", "", "", ""),
]


@pytest.mark.django_db(transaction=True)
def test_old_rows_get_the_reason_their_sentence_meant(make_user):
    user = make_user("old-timer")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    OldGeneration = executor.loader.project_state(BEFORE).apps.get_model(
        "generations", "Generation"
    )
    ids = [
        OldGeneration.objects.create(
            user_id=user.pk,
            kind="t2v",
            model_key="t2v-1.3B",
            resolution="480p",
            aspect_ratio="16:9",
            prompt=f"An old generation {n}",
            cost=5,
            status=status,
            error_message=message,
        ).pk
        for n, (status, message, _, _) in enumerate(OLD_ROWS)
    ]

    executor = MigrationExecutor(connection)  # a fresh graph: the applied state changed
    executor.migrate(executor.loader.graph.leaf_nodes())

    migrated = Generation.objects.in_bulk(ids)
    assert [(migrated[pk].failure_reason, migrated[pk].failure_detail) for pk in ids] == [
        (reason, detail) for _, _, reason, detail in OLD_ROWS
    ]
    rejected = migrated[ids[0]]
    assert rejected.status == Status.FAILED and rejected.retry_refusal is not None
    assert not rejected.can_retry
    assert migrated[ids[1]].can_retry  # a model error may pass next time
