"""The schema generator (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS): drf-spectacular's, plus on
each operation the scope an API key needs (`x-required-scope` and a line of the description)
and its code samples (`x-codeSamples`, and fenced blocks in the description for Swagger UI)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from wan_pwa.api.code_samples import as_markdown, code_samples
from wan_pwa.api.scopes import HasScope, required_scope


class DocumentedAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        notes = [operation.get("description", "")]
        scope = self._required_scope()
        if scope is not None:
            operation["x-required-scope"] = scope
            notes.append(
                f"**Scope:** `{scope}`. An API key without it gets 403 `insufficient_scope`."
            )
        # drf-spectacular lists `{}` among the requirements when no credentials are needed.
        authenticated = {} not in operation.get("security", [{}])
        samples = code_samples(
            operation["operationId"], self.method, self.path, authenticated=authenticated
        )
        operation["x-codeSamples"] = samples
        notes.append(as_markdown(samples))
        operation["description"] = "\n\n".join(note for note in notes if note)
        return operation

    def _required_scope(self) -> str | None:
        if not any(isinstance(permission, HasScope) for permission in self.view.get_permissions()):
            return None
        return required_scope(self.view, self.method)
