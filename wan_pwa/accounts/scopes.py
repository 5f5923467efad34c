"""What an API key may do: the scopes, registered by the apps whose endpoints need them (from
their `AppConfig.ready()`, as the other registries in wan_pwa/registry.py), so the accounts name
no app above them. A key holds a list of scope names; a session (the browser) has every scope."""

from __future__ import annotations

from dataclasses import dataclass

from wan_pwa.registry import Registry


@dataclass(frozen=True)
class ScopeInfo:
    name: str  # "resource:action", as keys and the API's errors name it
    description: str  # what the Settings page says it allows
    default: bool = True  # ticked for a new key on the Settings page


SCOPES: Registry[ScopeInfo] = Registry("API scope")


def register_scope(scope: ScopeInfo, *, order: int = 0) -> ScopeInfo:
    return SCOPES.register(scope.name, scope, order=order)


def all_scopes() -> list[str]:
    """Every scope's name: what a session may do, and what keys made before scopes got."""
    return [scope.name for scope in SCOPES]


def scope_choices() -> list[tuple[str, str]]:
    return [(scope.name, scope.description) for scope in SCOPES]
