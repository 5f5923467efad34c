"""`client.webhook_endpoints`: the addresses your account's events are sent to, signed."""

from __future__ import annotations

from typing import Any

from wanpwa._core import Listing, Op
from wanpwa._resource import Resource, async_iterating, awaitable, blocking, iterating
from wanpwa.models import SigningSecret, WebhookDelivery, WebhookEndpoint

EVENT_TYPES = (
    "generation.succeeded",
    "generation.failed",
    "generation.canceled",
    "order.paid",
    "credits.low",
)


class WebhookEndpointsBase(Resource):
    def _list(self) -> Listing[WebhookEndpoint]:
        """Your endpoints."""
        return Listing("/api/v1/webhooks/", {}, WebhookEndpoint.from_dict)

    def _create(
        self, url: str, *, events: list[str] | None = None, description: str = ""
    ) -> Op[WebhookEndpoint]:
        """A new endpoint for `events` (all of them unless told); its `secret` is in this
        answer only."""
        body = {"url": url, "events": events or list(EVENT_TYPES), "description": description}
        return self._core.call("POST", "/api/v1/webhooks/", WebhookEndpoint.from_dict, json=body)

    def _get(self, id: int) -> Op[WebhookEndpoint]:
        return self._core.call("GET", f"/api/v1/webhooks/{id}/", WebhookEndpoint.from_dict)

    def _update(
        self,
        id: int,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> Op[WebhookEndpoint]:
        """Changes what is given; `enabled=True` also clears its failures."""
        changes: dict[str, Any] = {
            "url": url,
            "events": events,
            "description": description,
            "enabled": enabled,
        }
        body = {name: value for name, value in changes.items() if value is not None}
        return self._core.call(
            "PATCH", f"/api/v1/webhooks/{id}/", WebhookEndpoint.from_dict, json=body
        )

    def _delete(self, id: int) -> Op[None]:
        return self._core.call("DELETE", f"/api/v1/webhooks/{id}/", lambda body: None)

    def _rotate_secret(self, id: int) -> Op[WebhookEndpoint]:
        """A new secret (in this answer only); the old one keeps signing beside it for 24 h."""
        return self._core.call(
            "POST", f"/api/v1/webhooks/{id}/rotate-secret/", WebhookEndpoint.from_dict
        )

    def _test(self, id: int) -> Op[WebhookDelivery]:
        """Sends a test event to the endpoint now."""
        return self._core.call("POST", f"/api/v1/webhooks/{id}/test/", WebhookDelivery.from_dict)

    def _deliveries(self, id: int) -> Listing[WebhookDelivery]:
        """The events sent to the endpoint, newest first, with every attempt."""
        return Listing(f"/api/v1/webhooks/{id}/deliveries/", {}, WebhookDelivery.from_dict)

    def _resend(self, id: int, delivery_id: int) -> Op[WebhookDelivery]:
        return self._core.call(
            "POST",
            f"/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend/",
            WebhookDelivery.from_dict,
        )

    def _signing_secret(self) -> Op[str]:
        """The secret that signs the per-request webhooks (`webhook=` on create)."""
        return self._core.call(
            "GET",
            "/api/v1/webhooks/signing-secret/",
            lambda body: SigningSecret.from_dict(body).secret,
        )


class WebhookEndpoints(WebhookEndpointsBase):
    list = iterating(WebhookEndpointsBase._list)
    create = blocking(WebhookEndpointsBase._create)
    get = blocking(WebhookEndpointsBase._get)
    update = blocking(WebhookEndpointsBase._update)
    delete = blocking(WebhookEndpointsBase._delete)
    rotate_secret = blocking(WebhookEndpointsBase._rotate_secret)
    test = blocking(WebhookEndpointsBase._test)
    deliveries = iterating(WebhookEndpointsBase._deliveries)
    resend = blocking(WebhookEndpointsBase._resend)
    signing_secret = blocking(WebhookEndpointsBase._signing_secret)


class AsyncWebhookEndpoints(WebhookEndpointsBase):
    list = async_iterating(WebhookEndpointsBase._list)
    create = awaitable(WebhookEndpointsBase._create)
    get = awaitable(WebhookEndpointsBase._get)
    update = awaitable(WebhookEndpointsBase._update)
    delete = awaitable(WebhookEndpointsBase._delete)
    rotate_secret = awaitable(WebhookEndpointsBase._rotate_secret)
    test = awaitable(WebhookEndpointsBase._test)
    deliveries = async_iterating(WebhookEndpointsBase._deliveries)
    resend = awaitable(WebhookEndpointsBase._resend)
    signing_secret = awaitable(WebhookEndpointsBase._signing_secret)
