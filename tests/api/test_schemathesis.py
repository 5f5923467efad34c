"""Property-based run of schemathesis against the live OpenAPI description: every operation,
with schema-valid and schema-invalid inputs, through the real WSGI application and an API key.

Asserts no 5xx; every status, header, content type and body as documented; invalid input
rejected; authentication not ignored. Prints the operations, the cases and their statuses.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credits.actions import add_credits
from generations.models import Status
from tests.factories import make_generation
from wan_pwa.accounts.models import User
from wan_pwa.outgoing_webhooks.actions import create_endpoint, send_test_event, update_endpoint
from wan_pwa.wsgi import application

pytestmark = pytest.mark.django_db

# Cases per operation: about 3,750 in all.
EXAMPLES = {GenerationMode.POSITIVE: 100, GenerationMode.NEGATIVE: 50}
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
CHECKS = {
    GenerationMode.POSITIVE: CONFORMANCE,
    GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection],
}


@pytest.fixture
def wsgi_in_test_transaction() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request, which would end the
    test's transaction; Django's own test client disconnects the same signals."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def known_generations(user: User, other_user: User) -> Callable[[], list[int]]:
    """Fresh ids worth hitting besides random ones, for each operation (an earlier one may have
    deleted or canceled them): the user's generations in each state, and someone else's."""

    def make() -> list[int]:
        mine = [
            make_generation(user, status=status, charged=False).pk
            for status in (Status.QUEUED, Status.PROCESSING, Status.SUCCEEDED, Status.FAILED)
            for _ in range(3)
        ]
        return [*mine, make_generation(other_user, status=Status.SUCCEEDED, charged=False).pk]

    return make


@pytest.fixture
def known_webhooks(user: User, other_user: User) -> Callable[[], list[int]]:
    """Fresh webhook endpoint ids: the user's (one disabled, one with a delivery) and someone
    else's."""

    def make() -> list[int]:
        endpoints = [
            create_endpoint(owner, "https://hooks.example.com/", ["order.paid"])[0]
            for owner in (user, user, user, other_user)
        ]
        update_endpoint(endpoints[1], enabled=False)
        send_test_event(endpoints[2])
        return [endpoint.pk for endpoint in endpoints]

    return make


def fuzz(
    strategy: st.SearchStrategy[Case],
    examples: int,
    checks: list,
    auth: dict,
    statuses: Counter,
) -> None:
    """Runs up to `examples` cases; Hypothesis shrinks and raises the first failure."""

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: CI failures reproduce locally
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        response = case.call_and_validate(headers=auth, checks=checks)
        statuses[response.status_code] += 1

    run()


# Every operation of the API in both modes: minutes on a busy 2-core machine, not seconds.
@pytest.mark.timeout(600)
def test_the_api_conforms_to_its_schema(
    api_key,
    user,
    known_generations,
    known_webhooks,
    settings,
    capsys,
    wsgi_in_test_transaction,
    stripe_sim,  # checkout pays on it
):
    settings.API_SUBMISSIONS_PER_MINUTE = 100_000  # let submissions through to 201 (limits
    settings.MAX_IN_FLIGHT_PER_USER = 100_000  # have tests of their own)
    settings.WEBHOOK_ENDPOINTS_PER_USER = 100_000
    add_credits(user, 1_000_000, type="purchase", description="schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    auth = {"Authorization": f"Bearer {api_key}"}
    statuses: dict[str, Counter] = {}
    failures: dict[str, str] = {}
    started = time.monotonic()
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        for mode, examples in EXAMPLES.items():
            label = f"{operation.label} [{mode.value}]"
            strategies = [operation.as_strategy(mode)]
            if "{id}" in operation.path and mode == GenerationMode.POSITIVE:
                known = known_webhooks if "/webhooks/" in operation.path else known_generations
                strategies += [
                    operation.as_strategy(mode, path_parameters={"id": pk}) for pk in known()
                ]
            statuses[label] = Counter()
            try:
                fuzz(st.one_of(strategies), examples, CHECKS[mode], auth, statuses[label])
            except Unsatisfiable:
                if mode != GenerationMode.NEGATIVE:
                    raise
                del statuses[label]  # no input to get wrong: the operation takes none
            except (Exception, BaseExceptionGroup) as error:  # report every operation's failure
                # A flaky failure hides its cause among its sub-exceptions: report them too.
                causes = [error, *getattr(error, "exceptions", ())]
                failures[label] = "\n".join(f"{type(e).__name__}: {e}" for e in causes)[:3000]
    elapsed = time.monotonic() - started

    operations = {label.rsplit(" [", 1)[0] for label in statuses}
    total = sum(sum(counter.values()) for counter in statuses.values())
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(operations)} operations, {total} cases in {elapsed:.0f} s, "
            f"{len(failures)} failing"
        )
        for label, counter in sorted(statuses.items()):
            spread = ", ".join(f"{code}: {n}" for code, n in sorted(counter.items()))
            print(f"  {sum(counter.values()):4d}  {label}  ({spread})")
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert len(operations) == 28
