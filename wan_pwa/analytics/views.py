"""The staff dashboard page, inside the admin (its login, its look, staff only). The view only
lays out the targets and cards the apps registered (wan_pwa.analytics.dashboard); the template
renders them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from wan_pwa.analytics.dashboard import WINDOWS, figures


def dashboard(request: HttpRequest) -> TemplateResponse:
    window = request.GET.get("window", "24h")
    if window not in WINDOWS:
        window = "24h"
    data = figures(window)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "windows": list(WINDOWS),
        "figures": data,
        "targets": data.targets(),
        "cards": data.cards(),
    }
    return TemplateResponse(request, "admin/wan_pwa/dashboard.html", context)
