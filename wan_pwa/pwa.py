"""What makes the site an installable app (the manifest, the service worker, the offline page),
and the files browsers and crawlers ask for at the root: favicon.ico and robots.txt."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

THEME_COLOR = "#3346c8"
BACKGROUND_COLOR = "#121417"
ICON_SIZES = (192, 512)
# What the service worker stores on install, so the shell loads with no network at all.
SHELL_STATIC = (
    "css/app.css",
    "js/app.js",
    "js/create.js",
    "django_htmx/htmx-2.min.js",
    "icons/icon-192.png",
    "icons/favicon-32.png",
)


@require_safe
@cache_control(max_age=3600, public=True)
def manifest(request: HttpRequest, description: str) -> JsonResponse:
    """`description` comes from the URL table, which knows the catalog (this module may not)."""
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in ICON_SIZES
    ] + [
        {
            "src": static(f"icons/maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in ICON_SIZES
    ]
    data = {
        "id": "/",
        "name": "Wan PWA: videos from words",
        "short_name": "Wan PWA",
        "description": description,
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "categories": ["entertainment", "photo"],
        "icons": icons,
        "shortcuts": [
            {"name": "Create a video", "url": reverse("create")},
            {"name": "History", "url": reverse("history")},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_safe
@cache_control(no_cache=True)  # browsers check for a new worker on every visit
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = [static(path) for path in SHELL_STATIC]
    offline_url = reverse("offline")
    # Static names carry their content hash, so the version changes whenever the shell does.
    version = hashlib.sha256("\n".join([offline_url, *shell]).encode()).hexdigest()[:12]
    context = {"shell": shell, "offline_url": offline_url, "version": version}
    response = render(request, "wan_pwa/sw.js", context, content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_safe
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "wan_pwa/offline.html")


# Private pages, and share pages (unlisted: only whoever was given the link should find them).
ROBOTS_DISALLOWED = (
    "/s/",
    "/create/",
    "/history/",
    "/generations/",
    "/settings/",
    "/accounts/",
    "/signup/",
    "/admin/",
    "/api/v1/",
    "/api/webhooks/",
    "/offline/",
)


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> FileResponse:
    # From the repository's static folder, which every deployment has, collected or not.
    icon = settings.BASE_DIR / "static" / "icons" / "favicon.ico"
    return FileResponse(icon.open("rb"), content_type="image/x-icon")


@require_safe
@cache_control(max_age=86400, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", *(f"Disallow: {prefix}" for prefix in ROBOTS_DISALLOWED)]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
