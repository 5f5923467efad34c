from tests.credits.stripe_support import stripe_sim  # noqa: F401 (a fixture for these tests)
