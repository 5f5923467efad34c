"""The project's URLs plus two reference views for bench_http.py: a bare JSON answer, and one
INSERT committed in its own transaction (into a table the benchmark creates with raw SQL)."""

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

WRITE_TABLE = "bench_http_write"


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@csrf_exempt  # a reference figure, not a form: no token to fetch first
def write(request: HttpRequest) -> JsonResponse:
    # Exactly one INSERT and one COMMIT (psycopg sends the BEGIN with the INSERT).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {WRITE_TABLE} DEFAULT VALUES")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/write/", write),
    path("", include("wan_pwa.urls")),
]
