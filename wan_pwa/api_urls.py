"""The REST API, mounted at /api/: version 1 under /api/v1/, its OpenAPI description at
/api/schema/ and interactive docs at /api/docs/."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from credits.api import BalanceView, LedgerView
from generations.api import GenerationViewSet, ModelCatalogView
from wan_pwa.api_errors import api_not_found

app_name = "api"

router = SimpleRouter()
router.register("v1/generations", GenerationViewSet, basename="generation")

urlpatterns = [
    *router.urls,
    path("v1/models/", ModelCatalogView.as_view(), name="models"),
    path("v1/credits/", BalanceView.as_view(), name="credits"),
    path("v1/credits/ledger/", LedgerView.as_view(), name="ledger"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, so the page runs
    # under a Content-Security-Policy without inline scripts.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="wan_pwa/api_docs.html"
        ),
        name="docs",
    ),
    re_path(
        r"^(?P<path>.*)$", api_not_found, name="not-found"
    ),  # JSON, not the HTML 404 page, under /api/
]
