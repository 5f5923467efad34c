"""The API-key scopes of the generation endpoints (registered in GenerationsConfig.ready())."""

from __future__ import annotations

from wan_pwa.accounts.scopes import ScopeInfo

READ = ScopeInfo("generations:read", "Read generations and download videos")
WRITE = ScopeInfo("generations:write", "Create, cancel, retry, star and delete generations")
