from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from generations import catalog, controls
from generations.failures import (
    DETAIL_MAX_LENGTH,
    REASON_MAX_LENGTH,
    FailureReason,
    rejected_part,
    sentence_of,
)
from generations.moderation import Rejected, retry_refusal
from generations.operations import NEEDS_SOURCE_VIDEO, OPERATION_MAX_LENGTH, Operation


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    STARTING = "starting", "Starting"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


# The order statuses may move in; a status never moves to one with a lower rank,
# and the terminal statuses share the top rank so none can replace another.
STATUS_RANK: dict[str, int] = {
    Status.QUEUED: 0,
    Status.STARTING: 1,
    Status.PROCESSING: 2,
    Status.SUCCEEDED: 3,
    Status.FAILED: 3,
    Status.CANCELED: 3,
}
TERMINAL_STATUSES = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED})
IN_FLIGHT_STATUSES = frozenset({Status.QUEUED, Status.STARTING, Status.PROCESSING})


class Kind(models.TextChoices):
    TEXT_TO_VIDEO = "t2v", "Text to video"
    IMAGE_TO_VIDEO = "i2v", "Image to video"
    VIDEO_TO_VIDEO = "v2v", "Video to video"


def upload_path(prefix: str, extension: str) -> str:
    # Unguessable names: nobody can enumerate other users' inputs or outputs.
    return f"{prefix}/{secrets.token_urlsafe(24)}{extension}"


def _extension(filename: str) -> str:
    return "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def input_image_path(instance: Generation, filename: str) -> str:
    return upload_path("inputs", _extension(filename))


def input_audio_path(instance: Generation, filename: str) -> str:
    return upload_path("audio", _extension(filename))


def input_video_path(instance: Generation, filename: str) -> str:
    return upload_path("sources", ".mp4")  # always an MP4 we wrote (source_videos.py)


def input_mask_path(instance: Generation, filename: str) -> str:
    return upload_path("masks", _extension(filename))


def video_path(instance: Generation, filename: str) -> str:
    return upload_path("videos", ".mp4")


def poster_path(instance: Generation, filename: str) -> str:
    return upload_path("posters", ".jpg")


def new_share_token() -> str:
    return secrets.token_urlsafe(24)


def model_key_choices() -> list[tuple[str, str]]:
    # A callable, so a model added to the catalog needs no migration.
    return [(key, model.label) for key, model in catalog.MODELS.items()]


# What a user chooses for a generation (every other field is ours): GenerationParams carries
# them in, a retry asks for them again, and Replicate's input is made from them.
REQUESTED_FIELDS = (
    "model_key",
    "resolution",
    "aspect_ratio",
    "prompt",
    "negative_prompt",
    "seed",
    "options",
    "operation",
)


def requested_fields(source: object) -> dict[str, Any]:
    """The requested fields of a Generation or a GenerationParams, by name."""
    return {name: getattr(source, name) for name in REQUESTED_FIELDS}


# The longest idempotency key a page or the API may send.
IDEMPOTENCY_KEY_MAX_LENGTH = 128


class GenerationQuerySet(models.QuerySet):
    def visible(self) -> GenerationQuerySet:
        return self.filter(deleted_at__isnull=True)

    def owned_by(self, user) -> GenerationQuerySet:
        return self.visible().filter(user=user)

    def in_flight(self) -> GenerationQuerySet:
        return self.filter(status__in=IN_FLIGHT_STATUSES)


class Generation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="generations"
    )
    kind = models.CharField(max_length=3, choices=Kind.choices)
    model_key = models.CharField("model", max_length=20, choices=model_key_choices)
    resolution = models.CharField(max_length=5)
    aspect_ratio = models.CharField(
        max_length=5, choices=[(ratio, ratio) for ratio in catalog.ASPECT_RATIOS]
    )
    prompt = models.TextField()
    negative_prompt = models.TextField(blank=True)
    seed = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(catalog.SEED_MAX)]
    )
    input_image = models.ImageField(upload_to=input_image_path, blank=True)
    # The optional audio track of the models that take one (Wan 2.5), a WAV or MP3.
    input_audio = models.FileField(upload_to=input_audio_path, blank=True)
    # A take's source video (its own copy, so deleting the source keeps it retryable), its mask
    # (VACE) and the end image of first-and-last-frame image-to-video: private, unguessable
    # names, kept as long as input images (generations/retention.py).
    input_video = models.FileField(upload_to=input_video_path, blank=True)
    input_mask = models.FileField(upload_to=input_mask_path, blank=True)
    input_end_image = models.ImageField(upload_to=input_image_path, blank=True)
    operation = models.CharField(
        max_length=OPERATION_MAX_LENGTH, choices=Operation.choices, default=Operation.CREATE
    )
    # A take's source generation: deleting it (a soft delete) keeps the takes, and so would a
    # row removed for good (SET_NULL).
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="takes"
    )
    # The advanced settings chosen (generations.controls), validated against the model's ranges;
    # empty: the model's defaults.
    options = models.JSONField(default=dict, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    prediction_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    # Why it failed or was canceled (set exactly then); the user's sentence is rendered from it.
    failure_reason = models.CharField(
        max_length=REASON_MAX_LENGTH, choices=FailureReason.choices, blank=True
    )
    # The provider's (or our copy's) own words about the failure, for staff only.
    failure_detail = models.TextField(max_length=DETAIL_MAX_LENGTH, blank=True)
    cost = models.PositiveIntegerField()
    # Replicate's own view: its last reported status and the output it produced. Our status only
    # becomes succeeded once that output is copied into our storage.
    replicate_status = models.CharField(max_length=20, blank=True)
    output_url = models.URLField(max_length=2000, blank=True)
    submit_attempts = models.PositiveSmallIntegerField(default=0)
    # The input the last submit attempt sent to Replicate (inline files as their digest), kept
    # before the call: a prediction whose id was lost is recognized by it. Null: none sent yet.
    replicate_input = models.JSONField(null=True, blank=True, editable=False)
    poll_attempts = models.PositiveSmallIntegerField(default=0)

    video = models.FileField(upload_to=video_path, blank=True)
    poster = models.ImageField(upload_to=poster_path, blank=True)

    retried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    # NULL, not "", for "no key": the per-user unique constraint must ignore keyless rows.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH, null=True, blank=True
    )

    # The API key it was submitted with (none from the pages): its monthly credit cap counts it.
    api_key = models.ForeignKey(
        "wan_pwa.ApiKey",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="generations",
        db_index=False,  # the (api_key, created_at) index below serves lookups by key
    )

    starred = models.BooleanField(default=False)
    share_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    # The landing page's gallery: the owner allows it on the share UI, staff choose among the
    # shared videos so allowed (featured_at, newest first); unsharing takes a video off.
    feature_consent = models.BooleanField(
        "owner allows featuring",
        default=False,
        help_text="The owner lets staff show this shared video and its prompt on the home page.",
    )
    featured_at = models.DateTimeField(null=True, blank=True)
    # Deleting hides the generation and removes its files; the row stays for the credit ledger.
    deleted_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Storage retention (generations/retention.py): when the input image and the video are
    # deleted, set and shown at least STORAGE_EXPIRY_NOTICE_DAYS before; null means kept.
    input_image_expires_at = models.DateTimeField(null=True, blank=True)
    input_audio_expires_at = models.DateTimeField(null=True, blank=True)
    # The source video, its mask and the end image go with it (input images' retention).
    input_video_expires_at = models.DateTimeField(null=True, blank=True)
    video_expires_at = models.DateTimeField(null=True, blank=True)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="generation_user_created"),
            models.Index(fields=["status", "created_at"], name="generation_status_created"),
            # A key's monthly credit cap sums its generations of the month.
            models.Index(fields=["api_key", "created_at"], name="generation_api_key_created"),
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(starred=True),
                name="generation_user_starred",
            ),
            # The submission limits count a user's generations in flight.
            models.Index(
                fields=["user"],
                condition=Q(status__in=IN_FLIGHT_STATUSES),
                name="generation_user_in_flight",
            ),
            # The ETA (generations.eta) reads the newest successes of one model and resolution.
            models.Index(
                fields=["model_key", "resolution", "-completed_at"],
                condition=Q(status=Status.SUCCEEDED),
                name="generation_recent_successes",
            ),
            models.Index(
                fields=["-featured_at"],
                condition=Q(featured_at__isnull=False),
                name="generation_featured",
            ),
        ]
        permissions = [("feature_generation", "Can feature shared videos on the home page")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="generation_idempotency_key_per_user",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100), name="generation_progress_0_100"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="generation_status_valid"
            ),
            models.CheckConstraint(condition=Q(cost__gt=0), name="generation_cost_positive"),
            # A generation ended without a video says why; any other has no failure reason.
            models.CheckConstraint(
                condition=Q(
                    status__in=[Status.FAILED, Status.CANCELED],
                    failure_reason__in=[reason.value for reason in FailureReason],
                )
                | ~Q(status__in=[Status.FAILED, Status.CANCELED]) & Q(failure_reason=""),
                name="generation_failure_reason_when_ended_unsuccessfully",
            ),
            # Accepted by Replicate means we know the prediction; succeeded means the video
            # is in our storage (until the generation is deleted).
            models.CheckConstraint(
                condition=Q(status__in=[Status.QUEUED, Status.FAILED, Status.CANCELED])
                | Q(prediction_id__isnull=False),
                name="generation_running_has_prediction",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.SUCCEEDED)
                | ~Q(video="")
                | Q(deleted_at__isnull=False)
                | Q(video_expires_at__isnull=False),
                name="generation_succeeded_has_video",
            ),
            models.CheckConstraint(
                # i2v keeps its image until the generation is deleted or the image expires;
                # v2v may have one (a reference or a character image).
                condition=Q(kind="t2v", input_image="")
                | Q(kind="i2v")
                & (
                    ~Q(input_image="")
                    | Q(deleted_at__isnull=False)
                    | Q(input_image_expires_at__isnull=False)
                )
                | Q(kind="v2v"),
                name="generation_image_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(operation__in=Operation.values), name="generation_operation_valid"
            ),
            # A take made from a video has it (its own copy) until deleted or expired.
            models.CheckConstraint(
                condition=~Q(operation__in=sorted(NEEDS_SOURCE_VIDEO))
                | ~Q(input_video="")
                | Q(deleted_at__isnull=False)
                | Q(input_video_expires_at__isnull=False),
                name="generation_take_has_source_video",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(operation=Operation.CREATE),
                name="generation_take_has_operation",
            ),
            models.CheckConstraint(
                condition=Q(input_audio="") | Q(model_key__in=catalog.AUDIO_MODEL_KEYS),
                name="generation_audio_only_for_models_taking_it",
            ),
            # Featured only while shared, allowed by its owner, finished and not deleted.
            models.CheckConstraint(
                condition=Q(featured_at__isnull=True)
                | Q(
                    share_token__isnull=False,
                    feature_consent=True,
                    status=Status.SUCCEEDED,
                    deleted_at__isnull=True,
                ),
                name="generation_featured_only_when_shared_and_allowed",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.prompt[:40]}"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def advanced_settings(self) -> list[tuple[str, str]]:
        """The model's advanced settings with the values used (defaults named as such)."""
        model = catalog.MODELS.get(self.model_key)
        return controls.described(model.controls, self.options) if model else []

    @property
    def is_in_flight(self) -> bool:
        return self.status in IN_FLIGHT_STATUSES

    @property
    def can_retry(self) -> bool:
        return (
            self.ended_unsuccessfully
            and self.deleted_at is None
            and not self.input_expired
            and self.retry_refusal is None
        )

    @property
    def error_message(self) -> str:
        """The user's sentence about why it failed or was canceled ("" otherwise)."""
        return sentence_of(self.failure_reason)

    @property
    def rejected(self) -> Rejected | None:
        """What the model's safety checker rejected, when that is how it failed."""
        return rejected_part(self.failure_reason) if self.status == Status.FAILED else None

    @property
    def retry_refusal(self) -> str | None:
        """Why the same input would be rejected again (Remix changes it); None otherwise."""
        return retry_refusal(self.rejected, fixed_seed=self.seed is not None)

    @property
    def input_expired(self) -> bool:
        """An input storage retention has removed: the image of an image-to-video generation,
        or an audio track (its date stays once the file is gone)."""
        return bool(self.expired_input)

    @property
    def expired_input(self) -> str:
        """What input retention removed, in words ("" when none)."""
        if self.kind == Kind.IMAGE_TO_VIDEO and not self.input_image:
            return "input image"
        if self.input_audio_expires_at is not None and not self.input_audio:
            return "audio track"
        if self.input_video_expires_at is not None and not self.input_video:
            return "source video"
        return ""

    @property
    def is_ready(self) -> bool:
        """Succeeded and copied into our storage: only then can the user play it."""
        return self.status == Status.SUCCEEDED and bool(self.video)

    @property
    def ended_unsuccessfully(self) -> bool:
        """Failed or canceled: no video, and the charge is refunded."""
        return self.status in (Status.FAILED, Status.CANCELED)

    @property
    def can_cancel(self) -> bool:
        return self.is_in_flight and self.deleted_at is None

    @property
    def can_delete(self) -> bool:
        """A generation in flight must be canceled first, so its refund cannot be lost."""
        return not self.is_in_flight and self.deleted_at is None

    @property
    def can_share(self) -> bool:
        """Only a finished video can be shared (deleting one removes its video)."""
        return self.is_ready

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.completed_at:
            return (self.completed_at - self.started_at).total_seconds()
        return None


class DailySpend(models.Model):
    """One shard of a day's site-wide credit spend, for the daily budget without Redis
    (generations.limits): sharded so that submissions of different users rarely lock the
    same row."""

    day = models.DateField()
    shard = models.PositiveSmallIntegerField()
    credits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "shard"], name="daily_spend_one_row_per_shard")
        ]

    def __str__(self) -> str:
        return f"{self.day} shard {self.shard}: {self.credits} credits"


# Models of the generations app defined in their own modules (imported here to be registered).
from generations.notifications.models import GenerationNotice, PushSubscription  # noqa: E402, F401
