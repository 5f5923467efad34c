"""REST API representations of generations and the model catalog."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from generations import catalog
from generations.actions import GenerationParams
from generations.images import MAX_IMAGE_SIZE, MIN_IMAGE_SIDE
from generations.models import Generation, Kind, Status


class GenerationSerializer(serializers.ModelSerializer):
    retried_from: serializers.PrimaryKeyRelatedField[Generation] = (
        serializers.PrimaryKeyRelatedField(
            read_only=True,
            allow_null=True,
            help_text="The failed or canceled generation this one retries.",
        )
    )
    has_input_image = serializers.SerializerMethodField()
    video_url = serializers.SerializerMethodField()
    duration_seconds = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Time from start to completion on the model."
    )

    class Meta:
        model = Generation
        fields = [
            "id",
            "kind",
            "model_key",
            "resolution",
            "aspect_ratio",
            "prompt",
            "negative_prompt",
            "seed",
            "has_input_image",
            "status",
            "progress",
            "error_message",
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
        ]
        read_only_fields = fields

    def get_has_input_image(self, generation: Generation) -> bool:
        return bool(generation.input_image)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_video_url(self, generation: Generation) -> str | None:
        """Where to download the video once `status` is `succeeded`; null before."""
        if not generation.is_ready:
            return None
        return reverse(
            "api:generation-video", args=[generation.pk], request=self.context.get("request")
        )


class TextField(serializers.CharField):
    """A string and nothing else: DRF's CharField would turn a number into text."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only `true` or `false`, as the OpenAPI description says, not DRF's yes/on/1 variants."""

    TRUE_VALUES = {"true", True}
    FALSE_VALUES = {"false", False}


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
        min_length=catalog.PROMPT_MIN_LENGTH,
        max_length=catalog.PROMPT_MAX_LENGTH,
        help_text="What the video shows (trimmed).",
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

    def to_params(self) -> GenerationParams:
        return GenerationParams(**self.validated_data)


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


class CatalogModelSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The `model_key` to submit.")
    # DRF's metaclass takes declared fields out of the class, so this does not replace the
    # Field.label attribute as the stubs (which cannot express that) assume.
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=Kind.choices)
    needs_image = serializers.BooleanField()
    aspect_ratios = serializers.ListField(child=serializers.CharField())
    resolutions = ResolutionSerializer(many=True)
