"""Webhooks we send to API users: their endpoints, one event row per event and endpoint, and
every delivery attempt, signed as Standard Webhooks and sent by the task worker."""
