"""`client.models`: what can be generated, at which resolutions, for how many credits."""

from __future__ import annotations

from wanpwa._core import Op
from wanpwa._resource import Resource, awaitable, blocking
from wanpwa.models import Model


class ModelsBase(Resource):
    def _list(self) -> Op[list[Model]]:
        """Every model (no API key needed)."""
        return self._core.call(
            "GET", "/api/v1/models/", lambda body: [Model.from_dict(m) for m in body]
        )


class Models(ModelsBase):
    list = blocking(ModelsBase._list)


class AsyncModels(ModelsBase):
    list = awaitable(ModelsBase._list)
