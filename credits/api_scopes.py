"""The API-key scopes of the credit endpoints (registered in CreditsConfig.ready()). Buying
credits spends money, so a new key leaves it unticked."""

from __future__ import annotations

from wan_pwa.accounts.scopes import ScopeInfo

READ = ScopeInfo("credits:read", "Read the credit balance, ledger and packs")
BILLING = ScopeInfo("billing", "Buy credits", default=False)
