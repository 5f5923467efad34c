"""The REST API's plumbing: API-key authentication, the one error shape and its OpenAPI
description, pagination and the /api/ URL table. The endpoints themselves live in the apps."""
