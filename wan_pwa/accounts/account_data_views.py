"""Settings > Your data: export it (and download the export), or delete the account."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from wan_pwa.accounts.data_export import ExportRefused, check_request_export
from wan_pwa.accounts.deletion import delete_account
from wan_pwa.accounts.forms import ConfirmPasswordForm
from wan_pwa.accounts.models import DataExport
from wan_pwa.http import AuthenticatedHttpRequest

SECTION = "#your-data"


@login_required
@require_POST
def request_export(request: AuthenticatedHttpRequest) -> HttpResponseRedirect:
    try:
        check_request_export(request.user)
    except ExportRefused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            "Your data export is being prepared; you will get an e-mail when it is ready.",
        )
    return redirect(reverse("settings") + SECTION)


@login_required
@require_safe
def download_export(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """The owner's export while it is kept; anyone else's, or an expired one, is 404."""
    export = get_object_or_404(DataExport, pk=pk, user=request.user, status=DataExport.Status.READY)
    if export.expires_at is None or export.expires_at <= timezone.now():
        raise Http404("This export has expired.")
    try:
        handle = export.file.storage.open(export.file.name, "rb")
    except FileNotFoundError:
        raise Http404("This export is no longer stored.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"wan-pwa-data-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete_account_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What deleting means, then the account's password to confirm it; a wrong one changes
    nothing."""
    form = ConfirmPasswordForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            delete_account(request.user)
            logout(request)
            messages.success(request, "Your account was deleted. Goodbye!")
            return redirect("home")
        messages.error(request, "Your account was not deleted: check your password.")
    status = 422 if form.is_bound else 200
    return render(request, "wan_pwa/delete_account.html", {"form": form}, status=status)
