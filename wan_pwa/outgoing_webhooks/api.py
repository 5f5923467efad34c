"""REST API for webhook endpoints: register, list, change, delete, rotate the secret, send a
test event, read the deliveries and send one again; and the per-request signing secret.

Others' endpoints are simply not there (404). A key needs `generations:read` to read them and
`generations:write` to change them (wan_pwa.api.scopes).
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wan_pwa.api.authentication import authenticated_user
from wan_pwa.api.pagination import NewestFirstPagination
from wan_pwa.api.schema import RETRY_AFTER, error_responses
from wan_pwa.api.scopes import Scope, read_write
from wan_pwa.outgoing_webhooks import actions
from wan_pwa.outgoing_webhooks.models import WebhookEndpoint, WebhookEvent
from wan_pwa.outgoing_webhooks.serializers import (
    DeliverySerializer,
    SigningSecretSerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
)

LARGEST_ID = 2**63 - 1
TAG = ["webhook endpoints"]


class WebhookView(APIView):
    required_scope = read_write(Scope.GENERATIONS_READ, Scope.GENERATIONS_WRITE)

    def endpoints(self, request: Request) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.filter(user=authenticated_user(request), subject="")

    def endpoint(self, request: Request, id: int) -> WebhookEndpoint:
        endpoint = self.endpoints(request).filter(pk=id).first() if id <= LARGEST_ID else None
        if endpoint is None:
            raise NotFound("No such webhook endpoint.")
        return endpoint


class EndpointListView(WebhookView):
    @extend_schema(
        operation_id="webhook_endpoints_list",
        summary="List your webhook endpoints",
        tags=TAG,
        responses={200: WebhookEndpointSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(WebhookEndpointSerializer(self.endpoints(request), many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        summary="Register a webhook endpoint",
        description="Events are POSTed to the URL signed as Standard Webhooks do. The answer "
        "carries the endpoint's `secret`, shown only this once.",
        tags=TAG,
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        given = WebhookEndpointCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        endpoint, secret = actions.create_endpoint(
            authenticated_user(request), **given.validated_data
        )
        body = WebhookEndpointWithSecretSerializer(endpoint).data | {"secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)


class EndpointView(WebhookView):
    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        summary="Get a webhook endpoint",
        tags=TAG,
        responses={200: WebhookEndpointSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, id: int) -> Response:
        return Response(WebhookEndpointSerializer(self.endpoint(request, id)).data)

    @extend_schema(
        operation_id="webhook_endpoints_update",
        summary="Change a webhook endpoint",
        description="Only the fields given change. `enabled: true` starts sending again to an "
        "endpoint that was disabled.",
        tags=TAG,
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, id: int) -> Response:
        endpoint = self.endpoint(request, id)
        given = WebhookEndpointUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        endpoint = actions.update_endpoint(endpoint, **given.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_destroy",
        summary="Delete a webhook endpoint",
        description="Nothing more is sent to it; its delivery log goes with it.",
        tags=TAG,
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, id: int) -> Response:
        actions.delete_endpoint(self.endpoint(request, id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RotateSecretView(WebhookView):
    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        summary="Rotate an endpoint's signing secret",
        description="A new secret, shown only in this answer. For 24 hours both the new and "
        "the old secret sign each delivery (two `v1,` signatures), so your receiver can switch "
        "without missing an event.",
        tags=TAG,
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer, **error_responses(401, 403, 404)},
    )
    def post(self, request: Request, id: int) -> Response:
        endpoint, secret = actions.rotate_secret(self.endpoint(request, id))
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data | {"secret": secret})


ACCEPTED = OpenApiResponse(DeliverySerializer, description="Queued: it is sent in a moment.")


class TestEventView(WebhookView):
    @extend_schema(
        operation_id="webhook_endpoints_test",
        summary="Send a test event",
        description="A `webhook.test` event to this endpoint, whatever events it takes. At "
        "most 3 may wait to be sent at once (429 with Retry-After).",
        tags=TAG,
        request=None,
        parameters=[RETRY_AFTER],
        responses={202: ACCEPTED, **error_responses(401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, id: int) -> Response:
        event = actions.send_test_event(self.endpoint(request, id))
        return Response(DeliverySerializer(event).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListView(WebhookView):
    pagination_class = NewestFirstPagination

    @extend_schema(
        operation_id="webhook_endpoints_deliveries",
        summary="List an endpoint's deliveries",
        description="Every event sent to it, newest first, each with its attempts (status "
        "code, latency, the start of the answer).",
        tags=TAG,
        responses={200: DeliverySerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request, id: int) -> Response:
        endpoint = self.endpoint(request, id)
        paginator = NewestFirstPagination()
        events = WebhookEvent.objects.filter(endpoint=endpoint).prefetch_related("deliveries")
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(DeliverySerializer(page, many=True).data)


class ResendView(WebhookView):
    @extend_schema(
        operation_id="webhook_endpoints_resend",
        summary="Send a delivery again",
        description="The same message (same `webhook-id` and body) is sent once more, now.",
        tags=TAG,
        request=None,
        responses={202: ACCEPTED, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: Request, id: int, delivery_id: int) -> Response:
        endpoint = self.endpoint(request, id)
        event = (
            WebhookEvent.objects.filter(endpoint=endpoint, pk=delivery_id).first()
            if delivery_id <= LARGEST_ID
            else None
        )
        if event is None:
            raise NotFound("No such delivery.")
        event = actions.resend_event(event)
        return Response(DeliverySerializer(event).data, status=status.HTTP_202_ACCEPTED)


class SigningSecretView(WebhookView):
    @extend_schema(
        operation_id="webhook_endpoints_signing_secret",
        summary="Your per-request webhook secret",
        description="Signs the webhooks sent to the `webhook` URL given with a generation.",
        tags=TAG,
        responses={200: SigningSecretSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response({"secret": actions.signing_secret(authenticated_user(request))})
