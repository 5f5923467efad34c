"""What every API answer carries: X-Request-ID (echoed when sane, else made), errors with
`request_id` and a `doc_url` into the page of error codes, which documents every code the code
can raise; RateLimit-* headers on submissions and Retry-After on every 429 and 503."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.api.payloads import T2V
from wan_pwa.api.error_codes import BY_CODE, ERROR_CODES

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"
GENERATED_ID = re.compile(r"req_[A-Za-z0-9_-]{22}")
APPS = ("wan_pwa", "generations", "credits", "webhooks")
# What our error handler answers DRF's own exceptions with (their default codes).
DRF_CODES = {
    "not_authenticated",
    "authentication_failed",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "parse_error",
    "throttled",
    "invalid",
}


def codes_in_source() -> dict[str, Path]:
    """Every stable code the apps' code can raise: the `code = "..."` of error classes (the
    DomainError subclasses), and the `code="..."` given to ApiError, Conflict and the error
    classes' own __init__ (ValidationError's codes are field-level, answered as `invalid`)."""
    found: dict[str, Path] = {}
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            if "simulator" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef):
                    for statement in node.body:
                        if (
                            isinstance(statement, ast.Assign)
                            and [getattr(t, "id", None) for t in statement.targets] == ["code"]
                            and isinstance(statement.value, ast.Constant)
                        ):
                            found[str(statement.value.value)] = path
                elif isinstance(node, ast.Call) and _callee(node) in ("ApiError", "Conflict"):
                    for keyword in node.keywords:
                        if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                            found[str(keyword.value.value)] = path
    return found


def _callee(call: ast.Call) -> str | None:
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None)


def test_every_code_the_api_can_answer_is_documented_with_its_status():
    raised = codes_in_source()
    assert {"insufficient_scope", "key_credit_cap_reached", "video_not_ready"} <= set(raised)
    missing = {code: str(path) for code, path in raised.items() if code not in BY_CODE}
    assert not missing, f"add these to wan_pwa/api/error_codes.py: {missing}"
    assert not DRF_CODES - set(BY_CODE)
    assert len(BY_CODE) == len(ERROR_CODES)  # each code once
    assert all(400 <= error.status <= 599 for error in ERROR_CODES)


def test_the_error_page_has_an_anchor_per_code_and_doc_urls_point_at_it(user):
    page = Client().get("/api/docs/errors/")
    assert page.status_code == 200
    html = page.content.decode()
    for error in ERROR_CODES:
        assert f'<tr id="{error.code}">' in html
    assert "named in <code>required_scope</code>" in html  # names set as code, text escaped
    assert "Bearer &lt;key&gt;" in html
    refused = APIClient().get("/api/v1/credits/")
    doc_url = refused.json()["error"]["doc_url"]
    assert doc_url == f"{settings.SITE_URL.rstrip('/')}/api/docs/errors/#not_authenticated"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/credits/", "/api/v1/no-such-endpoint/", "/api/v1/generations/999999/"],
)
def test_every_api_error_carries_the_answers_request_id(path, api):
    response = (api if "generations" in path else APIClient()).get(path)
    assert response.status_code in (401, 404)
    error = response.json()["error"]
    assert error["request_id"] == response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(error["request_id"])
    assert error["doc_url"].endswith(f"/api/docs/errors/#{error['code']}")


def test_a_sane_request_id_is_echoed_in_the_header_and_the_error(api):
    response = api.get("/api/v1/generations/0/", HTTP_X_REQUEST_ID="trace-7.a_B")
    assert response["X-Request-ID"] == "trace-7.a_B"
    assert response.json()["error"]["request_id"] == "trace-7.a_B"


@pytest.mark.parametrize("forged", ["a" * 65, "two\nlines", "semi;colon", ""])
def test_a_forged_request_id_is_replaced_everywhere(api, forged):
    response = api.get("/api/v1/generations/0/", HTTP_X_REQUEST_ID=forged)
    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]


def test_pages_carry_a_request_id_too(client):
    assert GENERATED_ID.fullmatch(client.get("/").headers["X-Request-ID"])


def test_submissions_say_how_much_room_the_limits_leave(api, limits):
    limits.API_SUBMISSIONS_PER_MINUTE = 3
    answers = [api.post(URL, T2V, format="json") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert [answer["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert {answer["RateLimit-Limit"] for answer in answers} == {"3"}
    refused = answers[-1]
    assert 0 < int(refused["RateLimit-Reset"]) <= 60
    # Both read the window a few milliseconds apart: the same second, or a second's rounding.
    assert abs(int(refused["Retry-After"]) - int(refused["RateLimit-Reset"])) <= 1


def test_when_fewer_generations_may_run_than_be_submitted_the_headers_say_so(api, limits):
    limits.MAX_IN_FLIGHT_PER_USER = 1
    accepted = api.post(URL, T2V, format="json")
    refused = api.post(URL, T2V, format="json")
    assert (accepted.status_code, refused.status_code) == (201, 429)
    assert refused.json()["error"]["code"] == "too_many_in_flight"
    assert (refused["RateLimit-Limit"], refused["RateLimit-Remaining"]) == ("1", "0")
    assert refused["RateLimit-Reset"] == refused["Retry-After"]


def test_reads_carry_no_rate_limit_headers(api):
    assert "RateLimit-Limit" not in api.get(URL)


def test_every_503_says_when_to_come_back(client):
    response = client.get("/readyz")  # no task worker has been seen
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
