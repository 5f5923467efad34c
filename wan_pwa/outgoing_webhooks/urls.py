"""The webhook endpoints' API routes, mounted under /api/v1/ by the project's URL table, which
hands in the key scopes they need (see wan_pwa.outgoing_webhooks.api)."""

from django.urls import URLPattern, path

from wan_pwa.outgoing_webhooks import api


def api_patterns(scopes: dict[str, str]) -> list[URLPattern]:
    def view(view_class: type[api.WebhookView]):
        return view_class.as_view(required_scopes=scopes)

    return [
        path("webhooks/", view(api.EndpointListView), name="webhook-endpoints"),
        path("webhooks/signing-secret/", view(api.SigningSecretView), name="webhook-secret"),
        path("webhooks/<int:id>/", view(api.EndpointView), name="webhook-endpoint"),
        path(
            "webhooks/<int:id>/rotate-secret/",
            view(api.RotateSecretView),
            name="webhook-rotate-secret",
        ),
        path("webhooks/<int:id>/test/", view(api.TestEventView), name="webhook-test"),
        path(
            "webhooks/<int:id>/deliveries/",
            view(api.DeliveryListView),
            name="webhook-deliveries",
        ),
        path(
            "webhooks/<int:id>/deliveries/<int:delivery_id>/resend/",
            view(api.ResendView),
            name="webhook-resend",
        ),
    ]
