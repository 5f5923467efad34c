"""The terms of service and the privacy notice.

Their text belongs to the operator, not to the code: with LEGAL_TEMPLATES_DIR set, a
`terms.html` or `privacy.html` in that folder replaces our default (templates/legal/), read with
the site's template engine so it may extend `legal/page.html` and use the context below. Only
those two names are read from the folder, so nothing else of the site can be overridden there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.loader import get_template
from django.views.decorators.http import require_safe

LEGAL_PAGES = ("terms", "privacy")


@dataclass(frozen=True)
class Cookie:
    name: str
    purpose: str
    lifetime: str


def essential_cookies() -> list[Cookie]:
    """Every cookie the site sets: all of them needed for it to work (a test walks the pages
    and compares their Set-Cookie headers with this list)."""
    session_days = settings.SESSION_COOKIE_AGE // 86400
    return [
        Cookie(
            settings.SESSION_COOKIE_NAME,
            "Keeps you signed in; holds nothing but a random key.",
            f"{session_days} days, or until you log out",
        ),
        Cookie(
            settings.CSRF_COOKIE_NAME,
            "Protects forms against cross-site request forgery.",
            f"{settings.CSRF_COOKIE_AGE // 86400} days",
        ),
        Cookie(
            CookieStorage.cookie_name,
            "Carries a confirmation message (such as 'Profile saved') to the next page.",
            "Until that page is shown",
        ),
    ]


def _context() -> dict[str, object]:
    return {
        "site_url": settings.SITE_URL,
        "cookies": essential_cookies(),
        "input_image_days": settings.INPUT_IMAGE_RETENTION_DAYS,
        "input_audio_days": settings.INPUT_AUDIO_RETENTION_DAYS,
        "video_days": settings.VIDEO_RETENTION_DAYS,
        "notice_days": settings.STORAGE_EXPIRY_NOTICE_DAYS,
        "webhook_event_days": settings.WEBHOOK_EVENT_RETENTION_DAYS,
        "task_result_days": settings.TASK_RESULT_RETENTION_DAYS,
        "export_days": settings.DATA_EXPORT_RETENTION_DAYS,
    }


def operator_template(page: str) -> Path | None:
    """The operator's replacement for `page`, if LEGAL_TEMPLATES_DIR has one."""
    folder = settings.LEGAL_TEMPLATES_DIR
    if not folder:
        return None
    candidate = Path(folder) / f"{page}.html"
    return candidate if candidate.is_file() else None


def render_legal_page(request: HttpRequest, page: str) -> HttpResponse:
    replacement = operator_template(page)
    template = (
        engines["django"].from_string(replacement.read_text(encoding="utf-8"))
        if replacement
        else get_template(f"legal/{page}.html")
    )
    return HttpResponse(template.render(_context(), request))


@require_safe
def terms(request: HttpRequest) -> HttpResponse:
    return render_legal_page(request, "terms")


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render_legal_page(request, "privacy")


def footer_links(request: HttpRequest) -> dict[str, str]:
    """The operator's status page for the footer, when there is one."""
    return {"status_page_url": settings.STATUS_PAGE_URL}
