"""REST API representations of generations and the model catalog."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse
from rest_framework.utils import html

from generations import catalog, controls, eta, selectors
from generations.actions.params import GenerationParams
from generations.audio import MAX_AUDIO_SECONDS, MAX_AUDIO_SIZE, MIN_AUDIO_SECONDS
from generations.failures import FailureReason
from generations.images import MAX_IMAGE_SIZE, MIN_IMAGE_SIDE
from generations.masks import MaskBox
from generations.models import REQUESTED_FIELDS, Generation, Kind, Status
from generations.moderation import Rejected
from generations.operations import Operation
from generations.request_webhook import REQUEST_EVENT_KINDS, RequestWebhook
from wan_pwa.api.fields import StrictBooleanField, TextField
from wan_pwa.outgoing_webhooks.actions import check_url
from wan_pwa.outgoing_webhooks.models import URL_MAX_LENGTH


class GenerationSerializer(serializers.ModelSerializer):
    retried_from: serializers.PrimaryKeyRelatedField[Generation] = (
        serializers.PrimaryKeyRelatedField(
            read_only=True,
            allow_null=True,
            help_text="The failed or canceled generation this one retries.",
        )
    )
    # DRF's metaclass takes declared fields out of the class, so this does not replace the
    # Field.parent attribute as the stubs (which cannot express that) assume.
    parent: serializers.PrimaryKeyRelatedField[Generation] = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        read_only=True,
        allow_null=True,
        help_text="The source this take was made from (see `operation`); null for an original. "
        "It stays when the source is deleted (`parent_deleted`).",
    )
    parent_deleted = serializers.SerializerMethodField()
    takes = serializers.SerializerMethodField()
    has_input_image = serializers.SerializerMethodField()
    has_input_audio = serializers.SerializerMethodField()
    has_source_video = serializers.SerializerMethodField()
    video_url = serializers.SerializerMethodField()
    duration_seconds = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Time from start to completion on the model."
    )
    options = serializers.DictField(
        read_only=True,
        help_text="The advanced settings chosen, by name (see POST); absent ones used the "
        "model's defaults.",
    )
    eta_seconds = serializers.SerializerMethodField()
    error_message = serializers.CharField(
        read_only=True,
        help_text="Why it failed or was canceled, in a sentence for people (its wording may "
        "change; read `failure_reason` in code). Empty otherwise.",
    )
    failure_reason = serializers.SerializerMethodField()
    rejected = serializers.ChoiceField(
        choices=[part.value for part in Rejected],
        read_only=True,
        allow_null=True,
        help_text="When the model's safety checker failed it: what it rejected (`input` is the "
        "prompt or the image, `unsaid` the input or the video). Null otherwise.",
    )
    retry_refusal = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Why a retry would be refused because the same input would be rejected again "
        "(create a new generation with a changed prompt, image or seed instead); null otherwise.",
    )

    class Meta:
        model = Generation
        fields = [
            "id",
            "kind",
            *REQUESTED_FIELDS,
            "has_input_image",
            "has_input_audio",
            "has_source_video",
            "parent",
            "parent_deleted",
            "takes",
            "status",
            "progress",
            "error_message",
            "failure_reason",
            "rejected",
            "retry_refusal",
            "cost",
            "starred",
            "retried_from",
            "video_url",
            "created_at",
            "submitted_at",
            "started_at",
            "completed_at",
            "updated_at",
            "duration_seconds",
            "eta_seconds",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ChoiceField(
            choices=FailureReason.choices,
            allow_null=True,
            help_text="Why it failed or was canceled, as a stable code to act on (the retry "
            "rules and the dashboard read it too); null while in flight and when it succeeded.",
        )
    )
    def get_failure_reason(self, generation: Generation) -> str | None:
        return generation.failure_reason or None

    def get_has_input_image(self, generation: Generation) -> bool:
        return bool(generation.input_image)

    def get_has_input_audio(self, generation: Generation) -> bool:
        """Whether it was made with an audio track that is still stored."""
        return bool(generation.input_audio)

    def get_has_source_video(self, generation: Generation) -> bool:
        """Whether it was made from a source video that is still stored (its own copy)."""
        return bool(generation.input_video)

    def get_parent_deleted(self, generation: Generation) -> bool:
        """Whether its source was deleted since (the take stays)."""
        return generation.parent is not None and generation.parent.deleted_at is not None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_takes(self, generation: Generation) -> list[int]:
        """The ids of the takes made from it (not deleted), newest first: at most the newest
        20."""
        return selectors.take_ids(generation)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_video_url(self, generation: Generation) -> str | None:
        """Where to download the video once `status` is `succeeded`; null before."""
        if not generation.is_ready:
            return None
        return reverse(
            "api:generation-video", args=[generation.pk], request=self.context.get("request")
        )

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_eta_seconds(self, generation: Generation) -> int | None:
        """Estimated seconds until an in-flight generation is ready; null once it has ended or
        while nothing is known (no recent generation of its model and resolution)."""
        return eta.remaining_seconds(generation)


def option_help(name: str) -> str:
    """The control's help and its range on each model that has it, from the catalog."""
    ranges = [
        f"{model.key}: {control_range(control)}"
        for model in catalog.MODELS.values()
        for control in model.controls
        if control.name == name
    ]
    return f"{controls.HELP[name]} {'; '.join(ranges)}."


def control_range(control: controls.Control) -> str:
    if control.kind == "url":
        return "an https URL"
    if control.kind == "boolean":
        default = "" if control.default is None else f" (default {str(control.default).lower()})"
        return f"true or false{default}"
    if control.kind == "choice":
        allowed = ", ".join(map(str, control.choices))
    else:
        allowed = f"{control.minimum:g} to {control.maximum:g}"
    return f"{allowed} (default {control.default})"


def option_choices(name: str) -> list[str]:
    """Every choice any model offers for the control (each model's own are checked later)."""
    return sorted(
        {
            str(choice)
            for model in catalog.MODELS.values()
            for control in model.controls
            if control.name == name
            for choice in control.choices
        }
    )


class MaskBoxSerializer(serializers.Serializer):
    """A box on the source's first frame, in fractions of the frame (0 to 1 from its top left
    corner): an object in JSON, or the same object as a JSON string in multipart/form-data."""

    x = serializers.FloatField(min_value=0, max_value=1, help_text="Left edge.")
    y = serializers.FloatField(min_value=0, max_value=1, help_text="Top edge.")
    width = serializers.FloatField(min_value=0, max_value=1)
    height = serializers.FloatField(min_value=0, max_value=1)

    def get_value(self, dictionary):
        # A form sends the object as one JSON string, not as DRF's `mask_box.x` fields.
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            return dictionary[self.field_name]
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError("Send the box as a JSON object.") from None
        # Whether it lies inside the frame is GenerationParams.clean's (MaskBox.errors).
        return super().to_internal_value(data)


class GenerationCreateSerializer(serializers.Serializer):
    """What a client sends to start a generation. Deeper checks (the model's resolutions, the
    image's content) are GenerationParams.clean's, shared with the pages."""

    model_key = serializers.ChoiceField(
        choices=list(catalog.MODELS), help_text="A `key` from GET /api/v1/models/."
    )
    resolution = serializers.ChoiceField(
        choices=catalog.RESOLUTIONS, default="480p", help_text="One the model offers."
    )
    aspect_ratio = serializers.ChoiceField(choices=list(catalog.ASPECT_RATIOS), default="16:9")
    prompt = TextField(
        required=False,
        allow_blank=True,
        default="",
        min_length=catalog.PROMPT_MIN_LENGTH,
        max_length=catalog.PROMPT_MAX_LENGTH,
        help_text="What the video shows, or (a take) what to change (trimmed). Required, "
        f"{catalog.PROMPT_MIN_LENGTH} to {catalog.PROMPT_MAX_LENGTH} characters, except for the "
        "models with `takes_prompt` false, which take none.",
    )
    operation = serializers.ChoiceField(
        choices=Operation.choices,
        default=Operation.CREATE,
        help_text="What to do: `create` a video, or make a take of a source video (each model "
        "lists its `operations`).",
    )
    source_generation = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**63 - 1,
        help_text="A take's source: the id of one of your finished videos (else send `video`).",
    )
    video = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A take's source uploaded (multipart/form-data): an MP4, MOV or WebM within "
        "the model's `source_limits` (length, pixels, bytes).",
    )
    end_image = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="First and last frame: the image the video ends on, for the models whose "
        "`files` list `end_image` (a JPEG, PNG or WebP like `image`).",
    )
    mask = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Change a region: a mask video of the source's size and at least its length, "
        "white where the model regenerates and black where it keeps the source (else send "
        "`mask_box`).",
    )
    mask_box = MaskBoxSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="Change a region: a box drawn on the source's first frame, in fractions of "
        "the frame (so any displayed size of it will do); we render it into the mask video, "
        "white inside the box, of the source's size, frame rate and length. Instead of `mask`.",
    )
    negative_prompt = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=catalog.NEGATIVE_PROMPT_MAX_LENGTH,
        help_text="What to avoid.",
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=catalog.SEED_MAX,
        help_text="The same seed and inputs give a similar video; random when null.",
    )
    image = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Image-to-video only (multipart/form-data): a JPEG, PNG or WebP of at most "
        f"{MAX_IMAGE_SIZE} and at least {MIN_IMAGE_SIDE} pixels a side.",
    )
    audio = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text="An optional audio track for the models with `takes_audio` (multipart/form-data):"
        f" a WAV or MP3 of {MIN_AUDIO_SECONDS} to {MAX_AUDIO_SECONDS} seconds and at most "
        f"{MAX_AUDIO_SIZE} (a talking portrait's: its `audio_limits`). The video is made to go "
        "with it (speech, music).",
    )

    # Advanced settings: each model has its own set and ranges (GET /api/v1/models/, `controls`),
    # checked by GenerationParams.clean; null or absent leaves the model's default.
    frame_num = serializers.IntegerField(
        required=False, allow_null=True, help_text=option_help("frame_num")
    )
    duration = serializers.IntegerField(
        required=False, allow_null=True, help_text=option_help("duration")
    )
    prompt_expansion = StrictBooleanField(
        required=False, allow_null=True, help_text=option_help("prompt_expansion")
    )
    go_fast = StrictBooleanField(required=False, allow_null=True, help_text=option_help("go_fast"))
    fast_mode = serializers.ChoiceField(
        choices=option_choices("fast_mode"),
        required=False,
        allow_null=True,
        help_text=option_help("fast_mode"),
    )
    sample_steps = serializers.IntegerField(
        required=False, allow_null=True, help_text=option_help("sample_steps")
    )
    guidance_scale = serializers.FloatField(
        required=False, allow_null=True, help_text=option_help("guidance_scale")
    )
    shift = serializers.FloatField(required=False, allow_null=True, help_text=option_help("shift"))
    lora_weights = TextField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=controls.URL_MAX_LENGTH,
        help_text=option_help("lora_weights"),
    )
    lora_scale = serializers.FloatField(
        required=False, allow_null=True, help_text=option_help("lora_scale")
    )
    audio_setting = serializers.ChoiceField(
        choices=option_choices("audio_setting"),
        required=False,
        allow_null=True,
        help_text=option_help("audio_setting"),
    )
    merge_audio = StrictBooleanField(
        required=False, allow_null=True, help_text=option_help("merge_audio")
    )

    def validate_source_generation(self, value: int | None) -> Generation | None:
        """One of the user's own finished videos; any other id (someone else's, deleted, not
        finished, unknown) is refused alike, so nothing says whether it exists."""
        if value is None:
            return None
        user = self.context["request"].user
        source = (
            Generation.objects.owned_by(user)
            .filter(pk=value, status=Status.SUCCEEDED)
            .exclude(video="")
            .first()
        )
        if source is None:
            raise serializers.ValidationError("No finished video of yours has this id.")
        return source

    webhook = TextField(
        required=False,
        allow_null=True,
        default=None,
        max_length=URL_MAX_LENGTH,
        help_text="An https URL to POST this generation's ending to (`generation.succeeded`, "
        "`.failed`, `.canceled`), signed with your per-request secret (GET "
        "/api/v1/webhooks/signing-secret/).",
    )
    webhook_events_filter = serializers.ListField(
        child=serializers.ChoiceField(choices=list(REQUEST_EVENT_KINDS)),
        required=False,
        allow_empty=False,
        max_length=len(REQUEST_EVENT_KINDS),
        help_text="Which endings to send to `webhook`; all three when absent.",
    )

    def validate_webhook(self, url: str | None) -> str | None:
        if url is None:
            return None
        try:
            return check_url(url)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None

    def validate(self, data: dict) -> dict:
        if data.get("webhook_events_filter") and data.get("webhook") is None:
            raise serializers.ValidationError(
                {"webhook_events_filter": ["Give a `webhook` URL to send these events to."]}
            )
        if data.get("video") is not None and data.get("source_generation") is not None:
            raise serializers.ValidationError(
                {"video": ["Send either a source_generation or a video, not both."]}
            )
        return data

    def request_webhook(self) -> RequestWebhook | None:
        """The per-request webhook asked for, if any."""
        url = self.validated_data.get("webhook")
        if url is None:
            return None
        kinds = self.validated_data.get("webhook_events_filter") or list(REQUEST_EVENT_KINDS)
        return RequestWebhook(
            url, tuple(REQUEST_EVENT_KINDS[kind] for kind in dict.fromkeys(kinds))
        )

    def to_params(self) -> GenerationParams:
        data = dict(self.validated_data)
        data.pop("webhook", None)
        data.pop("webhook_events_filter", None)
        options = {name: data.pop(name) for name in controls.LABELS if name in data}
        parent = data.pop("source_generation", None)
        box = data.pop("mask_box", None)
        mask_box = MaskBox(**box) if box else None
        return GenerationParams(**data, options=options, parent=parent, mask_box=mask_box)


class GenerationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Status.choices, required=False, help_text="Only generations in this status."
    )
    starred = StrictBooleanField(
        required=False, help_text="true: only starred; false: only unstarred."
    )


class ResolutionSerializer(serializers.Serializer):
    resolution = serializers.CharField()
    credits = serializers.IntegerField(help_text="What one generation costs.")


class ControlSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The field to send when creating a generation.")
    kind = serializers.CharField(help_text="integer, number, choice, boolean or url.")
    default = serializers.JSONField(allow_null=True, help_text="What the model uses when unset.")
    minimum = serializers.FloatField(allow_null=True)
    maximum = serializers.FloatField(allow_null=True)
    choices = serializers.ListField(child=serializers.JSONField())


class SourceLimitsSerializer(serializers.Serializer):
    min_seconds = serializers.FloatField()
    max_seconds = serializers.FloatField()
    max_bytes = serializers.IntegerField()
    max_pixels = serializers.IntegerField()


class AudioLimitsSerializer(serializers.Serializer):
    min_seconds = serializers.IntegerField()
    max_seconds = serializers.IntegerField()
    max_bytes = serializers.IntegerField()


class CatalogModelSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The `model_key` to submit.")
    # DRF's metaclass takes declared fields out of the class, so this does not replace the
    # Field.label attribute as the stubs (which cannot express that) assume.
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=Kind.choices)
    needs_image = serializers.BooleanField()
    takes_audio = serializers.BooleanField(
        help_text="It takes an audio track: `audio` when creating a generation."
    )
    operations = serializers.ListField(
        child=serializers.ChoiceField(choices=Operation.choices),
        help_text="What it does: the `operation` values it accepts.",
    )
    files = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="The files it takes (image, end_image, video, mask, audio), each with whether "
        "it is required.",
    )
    takes_prompt = serializers.BooleanField()
    ready = serializers.BooleanField(
        help_text="Offered now; false while it is turned off (a submission is refused)."
    )
    source_limits = SourceLimitsSerializer(
        allow_null=True, help_text="What it accepts as a source video; null: it takes none."
    )
    audio_limits = AudioLimitsSerializer(
        allow_null=True,
        help_text="What it accepts as an audio track (a WAV or MP3, decoded to check); null: it "
        "takes none.",
    )
    unverified = serializers.DictField(
        child=serializers.CharField(),
        help_text="Inputs (and `price`) not yet seen on Replicate's own pages, with how sure we "
        "are: B from code that calls Replicate, C from other vendors' docs, D inferred.",
    )
    takes_negative_prompt = serializers.BooleanField()
    priced_by_length = serializers.BooleanField(
        help_text="The credits are per native clip (five seconds or 81 frames): a longer clip "
        "costs more."
    )
    controls = ControlSerializer(many=True, help_text="The advanced settings the model takes.")
    aspect_ratios = serializers.ListField(child=serializers.CharField())
    resolutions = ResolutionSerializer(many=True)
