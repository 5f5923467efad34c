"""Small registries through which the apps above wan_pwa plug into it.

wan_pwa sits at the bottom of the import order, yet its dashboard, /metrics, scheduler and User
admin show or run what every app brings. So each app registers its pieces from its
`AppConfig.ready()` with the registries that the consumers keep (the dashboard's cards and
targets, the metrics' collectors, the scheduler's jobs, the User admin's sections), and those
consumers go through what is registered, naming no app above them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries by name, in order of registration (or of `order`, for the few that must come at
    one end). Registering a name again replaces its entry in place: `ready()` may run more than
    once (tests, reloads), and the second run must not add anything twice."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, tuple[int, T]] = {}

    def register(self, name: str, entry: T, *, order: int = 0) -> T:
        self._entries[name] = (order, entry)
        return entry

    def __iter__(self) -> Iterator[T]:
        # sorted() is stable: entries of equal order keep their order of registration.
        ranked = sorted(self._entries.values(), key=lambda ranked_entry: ranked_entry[0])
        return iter([entry for _, entry in ranked])

    def names(self) -> list[str]:
        return list(self._entries)

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise LookupError(f"no {self.kind} named {name!r} is registered")
        return self._entries[name][1]
