from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The landing page for visitors; members go straight to Create."""
    if request.user.is_authenticated:
        return redirect("create")
    return render(request, "wan_pwa/landing.html")
