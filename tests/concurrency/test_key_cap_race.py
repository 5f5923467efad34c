"""Real threads against PostgreSQL: submissions through one API key at the same moment never
pass its monthly credit cap, over HTTP through the API as a program would send them."""

from __future__ import annotations

from collections import Counter

import pytest

from credits.selectors import balance_of
from generations.models import Generation
from tests.api.payloads import T2V
from tests.concurrency.threads import race
from tests.factories import api_client
from wan_pwa.accounts.api_keys import create_api_key

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replicate_settings"),
]


def test_concurrent_submissions_through_a_capped_key_stop_exactly_at_the_cap(
    user, settings, assert_audit_clean
):
    settings.MAX_IN_FLIGHT_PER_USER = settings.API_SUBMISSIONS_PER_MINUTE = 100
    api_key, raw_key = create_api_key(user, "batch", monthly_credit_cap=30)  # six at 5 credits

    def submit() -> int:
        return api_client(key=raw_key).post("/api/v1/generations/", T2V, format="json").status_code

    statuses = race([submit for _ in range(12)])

    assert Counter(statuses) == {201: 6, 402: 6}
    assert Generation.objects.filter(api_key=api_key).count() == 6
    assert balance_of(user) == 70
    assert_audit_clean()
