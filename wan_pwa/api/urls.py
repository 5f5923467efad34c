"""The REST API's URL table, mounted at /api/ under the `api` namespace: the versioned endpoints
under /api/v1/, the OpenAPI description at /api/schema/, interactive docs at /api/docs/, and a
JSON 404 for any other URL under /api/.

The endpoints belong to the apps (credits, generations), which nothing in wan_pwa may import; the
project's urls.py hands them in.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from wan_pwa.api.views import api_not_found, error_codes

Patterns = list[URLPattern | URLResolver]


def api_urls(v1_endpoints: Patterns) -> tuple[Patterns, str]:
    """What to `include()` at /api/: the version-1 endpoints, the schema, the docs, and last the
    catch-all that answers unknown URLs in the API's error shape."""
    patterns: Patterns = [
        path("v1/", include(v1_endpoints)),
        path("schema/", SpectacularAPIView.as_view(), name="schema"),
        path("docs/errors/", error_codes, name="errors"),
        # The split view serves Swagger UI's start-up script as a file of its own, so the page
        # runs under a Content-Security-Policy without inline scripts.
        path(
            "docs/",
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", template_name="wan_pwa/api_docs.html"
            ),
            name="docs",
        ),
        # Any character, a newline too: "webhooks/1%0A/test/" is an unknown URL like any other.
        re_path(r"^(?P<path>[\s\S]*)$", api_not_found, name="not-found"),
    ]
    return patterns, "api"
