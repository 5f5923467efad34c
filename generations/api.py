"""REST API for generations and the model catalog. Every write goes through generations.actions
or generations.lifecycle (those that enqueue work), the same functions the pages call; a refusal
is a DomainError, which the API's error handler answers with its status (409 for a state that
forbids the action)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from generations import catalog, limits, selectors
from generations.actions import sharing
from generations.actions.deletion import delete_generation
from generations.actions.submission import Submission
from generations.analytics import counted_submission
from generations.files import download_name, file_response
from generations.lifecycle.submission import retry_generation, submit_generation
from generations.lifecycle.transitions import cancel_generation
from generations.models import IDEMPOTENCY_KEY_MAX_LENGTH, Generation
from generations.serializers import (
    CatalogModelSerializer,
    GenerationCreateSerializer,
    GenerationFilterSerializer,
    GenerationSerializer,
)
from wan_pwa.accounts.models import ApiKey
from wan_pwa.api.authentication import authenticated_user
from wan_pwa.api.errors import ApiError, Conflict
from wan_pwa.api.pagination import NewestFirstPagination
from wan_pwa.api.schema import RETRY_AFTER, ErrorSerializer, error_responses, example_error
from wan_pwa.api.scopes import Scope, read_write
from wan_pwa.log_context import names_generation

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    pattern=rf"^[!-~]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}$",
    description=(
        f"Any unique string (a UUID is ideal), at most {IDEMPOTENCY_KEY_MAX_LENGTH} printable "
        "ASCII characters. Sending the same key again returns the first generation (200) "
        "instead of creating and charging another; reusing it with different parameters is "
        "refused (422)."
    ),
)

GENERATION_EXAMPLE = OpenApiExample(
    "A queued generation",
    response_only=True,
    value={
        "id": 42,
        "kind": "t2v",
        "model_key": "t2v-14B",
        "resolution": "480p",
        "aspect_ratio": "16:9",
        "prompt": "A red fox running through fresh snow at dawn",
        "negative_prompt": "",
        "seed": None,
        "options": {"sample_steps": 20},
        "operation": "create",
        "has_input_image": False,
        "has_input_audio": False,
        "has_source_video": False,
        "parent": None,
        "parent_deleted": False,
        "takes": [],
        "status": "queued",
        "progress": 0,
        "error_message": "",
        "failure_reason": None,
        "cost": 10,
        "starred": False,
        "retried_from": None,
        "video_url": None,
        "created_at": "2025-06-01T09:30:00Z",
        "submitted_at": None,
        "started_at": None,
        "completed_at": None,
        "updated_at": "2025-06-01T09:30:00Z",
        "duration_seconds": None,
    },
)
CREATE_EXAMPLES = [
    OpenApiExample(
        "Text to video",
        request_only=True,
        value={
            "model_key": "t2v-14B",
            "resolution": "480p",
            "aspect_ratio": "16:9",
            "prompt": "A red fox running through fresh snow at dawn",
            "seed": 1234,
            "sample_steps": 20,
        },
    ),
    GENERATION_EXAMPLE,
]
REPLAY_EXAMPLE = OpenApiExample(
    "Idempotency-Key reused with other parameters",
    status_codes=[422],
    value=example_error(
        {
            "code": "idempotency_key_reused",
            "message": "This Idempotency-Key was used for a different request.",
        }
    ),
)
THE_GENERATION = OpenApiResponse(GenerationSerializer, description="The generation as it is now.")
# Errors every authenticated operation on one generation can answer.
ONE_GENERATION_ERRORS = (401, 403, 404)
SUBMISSION_ERRORS = (400, 401, 402, 403, 413, 429, 503)
SUBMITTING_ACTIONS = ("create", "retry")
RATE_LIMIT_HEADERS = [
    OpenApiParameter(
        name,
        int,
        OpenApiParameter.HEADER,
        description=description,
        response=[200, 201, 429],
    )
    for name, description in (
        ("RateLimit-Limit", "Submissions allowed by the limit nearest to refusing."),
        ("RateLimit-Remaining", "Submissions left under that limit now."),
        ("RateLimit-Reset", "Seconds until that limit leaves room again."),
    )
]


SUBMISSION_RESPONSES = {
    200: OpenApiResponse(
        GenerationSerializer, description="Replay: the generation first made with this key."
    ),
    201: OpenApiResponse(GenerationSerializer, description="Created, queued and charged."),
    422: OpenApiResponse(
        ErrorSerializer,
        description="The Idempotency-Key was used for a different request.",
        examples=[REPLAY_EXAMPLE],
    ),
    **error_responses(*SUBMISSION_ERRORS),
}


@extend_schema_view(
    list=extend_schema(
        summary="List your generations",
        description="Newest first, paginated with an opaque cursor: follow `next`.",
        parameters=[GenerationFilterSerializer],
        responses={200: GenerationSerializer(many=True), **error_responses(400, 401)},
    ),
    retrieve=extend_schema(
        summary="Get a generation",
        description="Poll this until `status` is `succeeded`, `failed` or `canceled`.",
        responses={200: THE_GENERATION, **error_responses(*ONE_GENERATION_ERRORS)},
        examples=[GENERATION_EXAMPLE],
    ),
    create=extend_schema(
        summary="Start a generation",
        description=(
            "Validates, charges the model's cost and queues the job. Send JSON, or "
            "multipart/form-data with an `image` file for image-to-video and, for the models with "
            "`takes_audio` (Wan 2.5), an optional `audio` track. A take of one of your videos: "
            "its `operation` and `source_generation` (or an uploaded `video`) with a model that "
            "does that operation; it is charged by the model's price rule. Limits: submissions per "
            "minute and generations in progress per user (429 with Retry-After), and a site-wide "
            "daily budget (503). With `webhook`, its ending is POSTed to that URL, signed (see "
            "Webhooks we send)."
        ),
        request={
            "application/json": GenerationCreateSerializer,
            "multipart/form-data": GenerationCreateSerializer,
        },
        parameters=[IDEMPOTENCY_KEY, RETRY_AFTER, *RATE_LIMIT_HEADERS],
        responses=SUBMISSION_RESPONSES,
        examples=CREATE_EXAMPLES,
    ),
    destroy=extend_schema(
        summary="Delete a generation",
        description="Removes it and its files. A generation in progress must be canceled first.",
        responses={204: None, **error_responses(*ONE_GENERATION_ERRORS, 409)},
    ),
)
@names_generation(kwarg="pk")
class GenerationViewSet(viewsets.GenericViewSet):
    serializer_class = GenerationSerializer
    pagination_class = NewestFirstPagination
    queryset = Generation.objects.none()  # for the schema; get_queryset scopes to the user
    http_method_names = ["get", "post", "delete", "head", "options"]
    required_scope = read_write(Scope.GENERATIONS_READ, Scope.GENERATIONS_WRITE)

    def get_queryset(self) -> QuerySet[Generation]:
        # Others' generations are simply not there: they answer 404, never 403.
        return selectors.with_takes(Generation.objects.owned_by(self.request.user))

    def list(self, request: Request) -> Response:
        filters = GenerationFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        generations = selectors.with_takes(
            selectors.history_of(
                request.user, selectors.GenerationFilters(**filters.validated_data)
            )
        )
        page = self.paginate_queryset(generations)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        idempotency_key = _idempotency_key(request)
        serializer = GenerationCreateSerializer(data=request.data, context={"request": request})
        with counted_submission():
            serializer.is_valid(raise_exception=True)
            submission = submit_generation(
                authenticated_user(request),
                serializer.to_params(),
                idempotency_key=idempotency_key,
                api_key=_api_key(request),
                webhook=serializer.request_webhook(),
            )
        return self._submission_response(submission)

    def destroy(self, request: Request, pk: str) -> Response:
        delete_generation(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="generations_cancel",
        summary="Cancel a generation",
        description="Stops a generation in progress; its credits are refunded.",
        request=None,
        responses={200: THE_GENERATION, **error_responses(*ONE_GENERATION_ERRORS, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        generation = cancel_generation(self.get_object())
        return Response(self.get_serializer(generation).data)

    @extend_schema(
        operation_id="generations_retry",
        summary="Retry a failed or canceled generation",
        description="Starts a new generation with the same parameters, charged again. Refused "
        "(409) when the model's safety checker rejected the input (the same input would be "
        "rejected again), or the video made with a fixed seed: `retry_refusal` says why.",
        request=None,
        parameters=[IDEMPOTENCY_KEY, RETRY_AFTER, *RATE_LIMIT_HEADERS],
        responses={**SUBMISSION_RESPONSES, **error_responses(404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        submission = retry_generation(
            self.get_object(),
            idempotency_key=_idempotency_key(request),
            api_key=_api_key(request),
        )
        return self._submission_response(submission)

    @extend_schema(
        methods=["post"],
        operation_id="generations_star",
        summary="Star a generation",
        request=None,
        responses={200: THE_GENERATION, **error_responses(*ONE_GENERATION_ERRORS)},
    )
    @extend_schema(
        methods=["delete"],
        operation_id="generations_unstar",
        summary="Unstar a generation",
        request=None,
        responses={200: THE_GENERATION, **error_responses(*ONE_GENERATION_ERRORS)},
    )
    @action(detail=True, methods=["post", "delete"])
    def star(self, request: Request, pk: str) -> Response:
        generation = sharing.set_starred(self.get_object(), request.method == "POST")
        return Response(self.get_serializer(generation).data)

    @extend_schema(
        operation_id="generations_video",
        summary="Download the video",
        description="The MP4 file, once `status` is `succeeded` (409 before). A `Range` header "
        "asks for part of it (206), so players can seek and downloads resume. When files are "
        "in object storage, the answer is a redirect (302) to a short-lived presigned URL, "
        "which serves the same.",
        responses={
            (200, "video/mp4"): OpenApiResponse(OpenApiTypes.BINARY, description="The video."),
            302: OpenApiResponse(description="Files in object storage: fetch `Location`."),
            (206, "video/mp4"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The byte range asked for."
            ),
            **error_responses(*ONE_GENERATION_ERRORS, 409),
        },
    )
    @action(detail=True, methods=["get"])
    def video(self, request: Request, pk: str) -> HttpResponseBase:
        generation = self.get_object()
        if not generation.is_ready:
            raise Conflict(
                f"The video is not ready: the generation is {generation.status}.",
                code="video_not_ready",
            )
        try:  # the pages' own download, Range support included
            return file_response(
                generation.video,
                request.headers.get("Range", ""),
                attachment_name=download_name(generation),
            )
        except Http404:
            raise Conflict("The video file is missing.", code="video_missing") from None

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        # Submissions, accepted or refused, say how much room the per-user limits leave.
        if self.action in SUBMITTING_ACTIONS and request.user.is_authenticated:
            usage = limits.SubmissionUsage.of(request.user)
            for header, value in usage.rate_limit_headers().items():
                response[header] = value
        return super().finalize_response(request, response, *args, **kwargs)

    def _submission_response(self, submission: Submission) -> Response:
        generation, created = submission.generation, submission.created
        location = reverse("api:generation-detail", args=[generation.pk], request=self.request)
        headers = {"Location": location}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return Response(
            self.get_serializer(generation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers=headers,
        )


class ModelCatalogView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="List the models",
        description="What can be generated, at which resolutions, for how many credits. "
        "No authentication needed.",
        responses={200: CatalogModelSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(CatalogModelSerializer(catalog.as_dict(), many=True).data)


def _api_key(request: Request) -> ApiKey | None:
    """The key the request came with; None for a session."""
    return request.auth if isinstance(request.auth, ApiKey) else None


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 0 < len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not all(" " < char <= "~" for char in key):
        raise ApiError(
            f"The Idempotency-Key header must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable "
            "ASCII characters, no spaces.",
            code="invalid_idempotency_key",
            status_code=status.HTTP_400_BAD_REQUEST,
        )
    return key
