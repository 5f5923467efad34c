"""Accounts: the User and ApiKey models, sign-up, the Settings pages and API keys.

A room of the `wan_pwa` app, not an app of its own: its models keep the `wan_pwa` label (and
migrations), so `AUTH_USER_MODEL` stays "wan_pwa.User".
"""
