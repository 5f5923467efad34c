"""The webhook endpoints' pages (Settings > Developers) and API routes (under /api/v1/), mounted
by the project's URL table."""

from django.urls import URLPattern, path, register_converter

from wan_pwa.outgoing_webhooks import api, views


class EndpointAction:
    """The buttons of an endpoint in the list; any other word is not a URL."""

    regex = "enable|disable|rotate|test|delete"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(EndpointAction, "endpoint_action")


# Settings > Developers, mounted at /settings/developers/ under the `developers` namespace.
page_patterns = (
    [
        path("", views.developers, name="list"),
        path("webhooks/create/", views.create, name="create"),
        path("webhooks/<int:pk>/", views.endpoint_page, name="endpoint"),
        path(
            "webhooks/<int:pk>/<endpoint_action:action>/",
            views.act,
            name="act",
        ),
        path(
            "webhooks/<int:pk>/deliveries/<int:event_pk>/resend/",
            views.resend,
            name="resend",
        ),
    ],
    "developers",
)


def api_patterns() -> list[URLPattern]:
    def view(view_class: type[api.WebhookView]):
        return view_class.as_view()

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
