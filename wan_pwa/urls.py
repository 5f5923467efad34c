"""The project's URL table: it sits above every app, so it is where the apps' pages and API
endpoints are put together."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from credits.api import (
    AutoRefillView,
    BalanceView,
    CheckoutView,
    CreditPackListView,
    LedgerView,
    PlanListView,
    SubscribeView,
)
from generations import catalog
from generations.api import GenerationViewSet, ModelCatalogView
from wan_pwa import health, legal, metrics, pwa, views
from wan_pwa.analytics.views import dashboard
from wan_pwa.api.urls import api_urls
from wan_pwa.outgoing_webhooks.urls import api_patterns as webhook_endpoints
from wan_pwa.outgoing_webhooks.urls import page_patterns as webhook_pages

# The back office says whose it is, not "Django administration".
admin.site.site_header = "Wan PWA back office"
admin.site.site_title = "Wan PWA admin"
admin.site.index_title = "Users, videos, credits and jobs"
# The collapsible sidebar opens by script after the page has drawn, shifting every admin page
# sideways while it loads; the index and the breadcrumbs lead everywhere it does.
admin.site.enable_nav_sidebar = False
# The admin's log-in is the site's (allauth's), with its rate limits and second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

router = SimpleRouter()
router.register("generations", GenerationViewSet, basename="generation")

api_v1_endpoints = [
    *router.urls,
    path("models/", ModelCatalogView.as_view(), name="models"),
    path(
        "credits/",
        BalanceView.as_view(cheapest_generation_cost=catalog.CHEAPEST_COST),
        name="credits",
    ),
    path("credits/ledger/", LedgerView.as_view(), name="ledger"),
    path("credits/packs/", CreditPackListView.as_view(), name="credit-packs"),
    path("credits/checkout/", CheckoutView.as_view(), name="checkout"),
    path("credits/auto-refill/", AutoRefillView.as_view(), name="auto-refill"),
    *webhook_endpoints(),
    path("credits/plans/", PlanListView.as_view(), name="credit-plans"),
    path("credits/subscribe/", SubscribeView.as_view(), name="subscribe"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("terms/", legal.terms, name="terms"),
    path("privacy/", legal.privacy, name="privacy"),
    path("", include("wan_pwa.accounts.urls")),
    path("settings/billing/", include("credits.urls")),
    path("settings/developers/", include(webhook_pages)),
    # Inside the admin (its login, staff only); before admin/ so the admin's catch-all misses it.
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path(
        "manifest.webmanifest",
        pwa.manifest,
        {"description": catalog.summary()},
        name="manifest",
    ),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("offline/", pwa.offline, name="offline"),
    path("favicon.ico", pwa.favicon, name="favicon"),
    path("robots.txt", pwa.robots_txt, name="robots"),
    path("api/webhooks/", include("webhooks.urls")),
    path("api/", include(api_urls(api_v1_endpoints))),
    path("", include("generations.urls")),
]
