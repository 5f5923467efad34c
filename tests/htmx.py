"""What htmx adds to the requests it sends, for tests of the answers meant for it."""

HX = {"HTTP_HX_REQUEST": "true"}
