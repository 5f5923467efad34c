"""The HTTP face of the simulator: Replicate's routes, bearer auth, JSON and problem details."""

from __future__ import annotations

import hmac
import html
import json
import logging
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .config import WEBHOOK_EVENTS
from .files import StoredFile, UploadError
from .predictions import CursorError
from .schemas import model_page
from .wan_models import WanModel, invalid_fields

if TYPE_CHECKING:
    from .server import ReplicateSimulator

logger = logging.getLogger(__name__)

_Query = dict[str, list[str]]
_REQUEST_KEYS = frozenset({"input", "webhook", "webhook_events_filter", "stream"})
_MULTIPART_OVERHEAD = 64 * 1024  # headers and boundaries around an upload at the size limit
_PREFER_WAIT = re.compile(r"^wait(?:=(\d+))?$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?|(\d+)")


class ApiError(Exception):
    """Answered as an RFC 7807 problem: the shape the replicate client reads into ReplicateError."""

    def __init__(
        self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.headers = headers or {}
        self.body = {
            "title": HTTPStatus(status).phrase,
            "detail": detail,
            "status": status,
            **extra,
        }


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: ReplicateSimulator) -> None:
        self.simulator = simulator
        super().__init__(address, SimulatorHandler)


class SimulatorHandler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects from Replicate
    server_version = "ReplicateSimulator/1.0"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    @property
    def sim(self) -> ReplicateSimulator:
        return self.server.simulator

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            # Read the body first, always: an unread body would corrupt the next keep-alive
            # request on this connection.
            body = self._read_body()
            if url.path.startswith("/v1/"):
                self._authenticate()
            endpoint, params = _route(method, url.path)
            endpoint(self, body, parse_qs(url.query), **params)
        except ApiError as error:
            self._send_json(error.status, error.body, error.headers, problem=True)
        except Exception:
            logger.exception("%s %s failed", method, url.path)
            internal = ApiError(500, "Internal server error")
            self._send_json(internal.status, internal.body, problem=True)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise ApiError(411, "A Content-Length header is required")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length header") from None
        if length > self.sim.config.max_upload_bytes + _MULTIPART_OVERHEAD:
            self.close_connection = True
            raise self._too_large()
        return self.rfile.read(length) if length > 0 else b""

    def _authenticate(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "token") or not token:
            raise ApiError(401, "You did not pass a valid authentication token")
        expected = self.sim.config.token
        if expected and not hmac.compare_digest(token.encode(), expected.encode()):
            raise ApiError(401, "Invalid token")

    # Endpoints -------------------------------------------------------------------------------

    def get_model(self, body: bytes, query: _Query, owner: str, name: str) -> None:
        model = self._model(owner, name)
        self._send_json(200, model_page(f"{owner}/{name}", model, self.sim.base_url))

    def create_prediction(self, body: bytes, query: _Query, owner: str, name: str) -> None:
        model = self._model(owner, name)
        request = _json_object(body)
        if unknown := sorted(set(request) - _REQUEST_KEYS):
            raise _validation_error(
                {"type": "additional_property", "field": key, "description": "is not allowed"}
                for key in unknown
            )
        model_input = request.get("input")
        if not isinstance(model_input, dict):
            raise _validation_error([_field("input", "input is required and must be an object")])
        webhook, events = _webhook_options(request)
        if problems := invalid_fields(model, model_input):
            raise _validation_error(problems)
        cancel_after = self._cancel_after()
        self.sim.reject_create_if_asked(model_input.get("prompt", ""))
        prediction = self.sim.submit(f"{owner}/{name}", model_input, webhook, events, cancel_after)
        if match := _PREFER_WAIT.match(self.headers.get("Prefer", "")):
            prediction.done.wait(min(int(match[1] or 60), 60))
        self._send_json(201, self.sim.store.snapshot(prediction, self.sim.base_url))

    def _cancel_after(self) -> float | None:
        """Seconds from the Cancel-After header (`90`, `90s`, `5m`, `1h30m45s`), or None."""
        value = self.headers.get("Cancel-After")
        if value is None:
            return None
        match = _DURATION.fullmatch(value.strip())
        if not match or not any(match.groups()):
            raise ApiError(400, f"Invalid Cancel-After header: {value!r}")
        hours, minutes, seconds, bare = (float(part or 0) for part in match.groups())
        total = hours * 3600 + minutes * 60 + seconds + bare
        minimum = self.sim.config.min_cancel_after
        if total < minimum:
            raise ApiError(400, f"Cancel-After must be at least {minimum:g} seconds")
        return total

    def get_prediction(self, body: bytes, query: _Query, prediction_id: str) -> None:
        self._send_json(200, self.sim.prediction(prediction_id))

    def cancel_prediction(self, body: bytes, query: _Query, prediction_id: str) -> None:
        self._send_json(200, self.sim.cancel(prediction_id))

    def list_predictions(self, body: bytes, query: _Query) -> None:
        try:
            page, older, newer = self.sim.store.page(
                query.get("cursor", [None])[0], self.sim.config.page_size
            )
        except CursorError as error:
            raise ApiError(400, str(error)) from None
        url = f"{self.sim.base_url}/v1/predictions?cursor="
        results = [self.sim.store.snapshot(prediction, self.sim.base_url) for prediction in page]
        self._send_json(
            200,
            {
                "next": url + older if older else None,
                "previous": url + newer if newer else None,
                "results": results,
            },
        )

    def create_file(self, body: bytes, query: _Query) -> None:
        try:
            stored = self.sim.files.add(self.headers.get("Content-Type", ""), body)
        except UploadError as error:
            raise ApiError(422, str(error)) from None
        if len(stored.content) > self.sim.config.max_upload_bytes:
            self.sim.files.delete(stored.id)
            raise self._too_large()
        self._send_json(201, stored.to_json(self.sim.base_url))

    def list_files(self, body: bytes, query: _Query) -> None:
        results = [stored.to_json(self.sim.base_url) for stored in self.sim.files.newest_first()]
        self._send_json(200, {"next": None, "previous": None, "results": results})

    def get_file(self, body: bytes, query: _Query, file_id: str) -> None:
        self._send_json(200, self._file(file_id).to_json(self.sim.base_url))

    def delete_file(self, body: bytes, query: _Query, file_id: str) -> None:
        if not self.sim.files.delete(file_id):
            raise ApiError(404, "File not found")
        self._send(204, b"", "application/json")

    def download_file(self, body: bytes, query: _Query, file_id: str) -> None:
        stored = self._file(file_id)
        self._send(200, stored.content, stored.content_type)

    def webhook_secret(self, body: bytes, query: _Query) -> None:
        self._send_json(200, {"key": self.sim.webhook_secret})

    def delivery(self, body: bytes, query: _Query, prediction_id: str) -> None:
        """The output file, standing in for replicate.delivery: no auth, byte ranges for seeking."""
        video = self.sim.output_video(prediction_id)
        if video is None:
            raise ApiError(404, "Not found")
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
        match = _RANGE.match(self.headers.get("Range", ""))
        if not match or not (match[1] or match[2]):
            self._send(200, video, "video/mp4", headers)
            return
        size = len(video)
        if match[1]:
            start, end = int(match[1]), min(int(match[2] or size - 1), size - 1)
        else:
            start, end = max(size - int(match[2]), 0), size - 1
        if start > end:
            raise ApiError(
                416, "Range not satisfiable", headers={"Content-Range": f"bytes */{size}"}
            )
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        self._send(206, video[start : end + 1], "video/mp4", headers)

    def web_page(self, body: bytes, query: _Query, prediction_id: str) -> None:
        """A bare page for the `urls.web` link, so it leads somewhere during demos."""
        data = self.sim.prediction(prediction_id)
        video = (
            f'<video src="{html.escape(data["output"])}" controls></video>'
            if data["output"]
            else ""
        )
        page = (
            f"<!doctype html><meta charset=utf-8><title>Prediction {data['id']}</title>"
            f"<h1>{html.escape(data['model'])}: {data['status']}</h1>{video}"
            f"<p>{html.escape(data['error'] or '')}</p><pre>{html.escape(data['logs'])}</pre>"
        )
        self._send(200, page.encode(), "text/html; charset=utf-8")

    # Helpers ---------------------------------------------------------------------------------

    def _model(self, owner: str, name: str) -> WanModel:
        model = self.sim.model(f"{owner}/{name}")
        if model is None:
            raise ApiError(404, "The requested model could not be found")
        return model

    def _too_large(self) -> ApiError:
        limit_mb = self.sim.config.max_upload_bytes / (1024 * 1024)
        return ApiError(413, f"Files must be less than {limit_mb:g}MB in size")

    def _file(self, file_id: str) -> StoredFile:
        stored = self.sim.files.get(file_id)
        if stored is None:
            raise ApiError(404, "File not found")
        return stored

    def _send_json(
        self,
        status: int,
        data: Any,
        headers: dict[str, str] | None = None,
        *,
        problem: bool = False,
    ) -> None:
        content_type = "application/problem+json" if problem else "application/json"
        self._send(status, json.dumps(data).encode(), content_type, headers)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


_Endpoint = Callable[..., None]
_ROUTES: list[tuple[re.Pattern[str], dict[str, _Endpoint]]] = [
    (re.compile(pattern), methods)
    for pattern, methods in (
        (
            r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions",
            {"POST": SimulatorHandler.create_prediction},
        ),
        (r"/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)", {"GET": SimulatorHandler.get_model}),
        (r"/v1/predictions", {"GET": SimulatorHandler.list_predictions}),
        (r"/v1/predictions/(?P<prediction_id>[^/]+)", {"GET": SimulatorHandler.get_prediction}),
        (
            r"/v1/predictions/(?P<prediction_id>[^/]+)/cancel",
            {"POST": SimulatorHandler.cancel_prediction},
        ),
        (
            r"/v1/files",
            {"GET": SimulatorHandler.list_files, "POST": SimulatorHandler.create_file},
        ),
        (
            r"/v1/files/(?P<file_id>[^/]+)",
            {"GET": SimulatorHandler.get_file, "DELETE": SimulatorHandler.delete_file},
        ),
        (r"/v1/files/(?P<file_id>[^/]+)/download", {"GET": SimulatorHandler.download_file}),
        (r"/v1/webhooks/default/secret", {"GET": SimulatorHandler.webhook_secret}),
        (r"/delivery/(?P<prediction_id>[^/]+)/output\.mp4", {"GET": SimulatorHandler.delivery}),
        (r"/p/(?P<prediction_id>[^/]+)", {"GET": SimulatorHandler.web_page}),
    )
]


def _route(method: str, path: str) -> tuple[_Endpoint, dict[str, str]]:
    for pattern, methods in _ROUTES:
        if match := pattern.fullmatch(path):
            if method not in methods:
                raise ApiError(
                    405, f"Method {method} not allowed", headers={"Allow": ", ".join(methods)}
                )
            return methods[method], match.groupdict()
    raise ApiError(404, "Not found")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ApiError(400, f"Request body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ApiError(422, "Request body must be a JSON object")
    return data


def _webhook_options(request: dict[str, Any]) -> tuple[str | None, frozenset[str]]:
    webhook = request.get("webhook")
    if webhook is not None:
        parts = urlsplit(webhook) if isinstance(webhook, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
            raise _validation_error([_field("webhook", "webhook must be an HTTP(S) URL")])
    events = request.get("webhook_events_filter", list(WEBHOOK_EVENTS))
    if not isinstance(events, list) or not all(event in WEBHOOK_EVENTS for event in events):
        allowed = ", ".join(WEBHOOK_EVENTS)
        problem = _field("webhook_events_filter", f"webhook_events_filter items must be: {allowed}")
        raise _validation_error([problem])
    return webhook, frozenset(events)


def _field(name: str, description: str) -> dict[str, str]:
    return {"type": "invalid", "field": name, "description": description}


def _validation_error(problems: Iterable[dict[str, str]]) -> ApiError:
    problems = list(problems)
    detail = "".join(f"- {p['field']}: {p['description']}\n" for p in problems)
    return ApiError(422, detail, title="Input validation failed", invalid_fields=problems)
