"""Replicate's files API: uploads kept in memory, usable as prediction inputs by their URL."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import urlsplit

from .ids import new_id, timestamp, utcnow

# Uploaded files expire after a day on Replicate.
_LIFETIME = timedelta(days=1)
_FILE_PATH = re.compile(r"^/v1/files/(?P<id>[a-z0-9]+)(?:/download)?$")


class UploadError(ValueError):
    """A malformed upload; answered with 422."""


@dataclass
class StoredFile:
    id: str
    name: str
    content_type: str
    content: bytes
    metadata: dict[str, Any]
    created_at: datetime = field(default_factory=utcnow)

    def to_json(self, origin: str) -> dict[str, Any]:
        digest = hashlib.sha256(self.content).hexdigest()
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": len(self.content),
            "etag": hashlib.md5(self.content, usedforsecurity=False).hexdigest(),
            "checksums": {"sha256": digest},
            "metadata": self.metadata,
            "created_at": timestamp(self.created_at),
            "expires_at": timestamp(self.created_at + _LIFETIME),
            "urls": {"get": f"{origin}/v1/files/{self.id}"},
        }


class FileStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}

    def add(self, content_type_header: str, body: bytes) -> StoredFile:
        fields = _multipart_fields(content_type_header, body)
        if "content" not in fields:
            raise UploadError("content is required")
        content, filename, part_type = fields["content"]
        metadata = _metadata(fields)
        stored = StoredFile(
            id=new_id(),
            name=_text(fields, "filename") or filename or "file",
            content_type=_text(fields, "type") or part_type or "application/octet-stream",
            content=content,
            metadata=metadata,
        )
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def delete(self, file_id: str) -> bool:
        with self._lock:
            return self._files.pop(file_id, None) is not None

    def newest_first(self) -> list[StoredFile]:
        with self._lock:
            return sorted(self._files.values(), key=lambda f: f.created_at, reverse=True)

    def content_for_url(self, url: str, origin: str) -> bytes | None:
        """The bytes behind a `urls.get` (or download) URL this server handed out, else None."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != origin:
            return None
        match = _FILE_PATH.match(parts.path)
        stored = self.get(match["id"]) if match else None
        return stored.content if stored else None


def _multipart_fields(content_type_header: str, body: bytes) -> dict[str, tuple[bytes, str, str]]:
    """Form fields by name: (bytes, filename, part content type)."""
    if not content_type_header.lower().startswith("multipart/form-data"):
        raise UploadError("Expected a multipart/form-data body")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type_header.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise UploadError("Malformed multipart body")
    fields: dict[str, tuple[bytes, str, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            # get_content_type() says text/plain for a part without one; Replicate's default
            # is application/octet-stream, applied by the caller.
            part_type = part.get_content_type() if part.get("content-type") else ""
            content = payload if isinstance(payload, bytes) else b""
            fields[name] = (content, part.get_filename() or "", part_type)
    return fields


def _text(fields: dict[str, tuple[bytes, str, str]], name: str) -> str:
    return fields[name][0].decode("utf-8", "replace").strip() if name in fields else ""


def _metadata(fields: dict[str, tuple[bytes, str, str]]) -> dict[str, Any]:
    raw = _text(fields, "metadata")
    if not raw:
        return {}
    try:
        metadata = json.loads(raw)
    except json.JSONDecodeError:
        raise UploadError("metadata must be valid JSON") from None
    if not isinstance(metadata, dict):
        raise UploadError("metadata must be a JSON object")
    return metadata
