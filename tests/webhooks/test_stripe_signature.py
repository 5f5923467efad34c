"""Stripe-Signature checks against hostile headers, and agreement with the official client."""

from __future__ import annotations

import time

import pytest
import stripe

from webhooks.stripe_signature import expected_signature, verify
from webhooks.verification import InvalidWebhook

SECRET = "whsec_test_signing_secret"
BODY = b'{"id": "evt_1", "object": "event"}'
NOW = 1_800_000_000


def header(*parts: str) -> str:
    return ",".join(parts)


def good(timestamp: int = NOW, secret: str = SECRET, body: bytes = BODY) -> str:
    return f"v1={expected_signature(secret, str(timestamp), body)}"


def accepted(value: str, *, now: float | None = NOW) -> bool:
    """Whether the body gets through with this header (verify raises InvalidWebhook if not);
    `now` None: the real clock."""
    try:
        verify(secret=SECRET, header=value, body=BODY, now=now)
    except InvalidWebhook:
        return False
    return True


def official(secret: str) -> str:
    return stripe.WebhookSignature.generate_signature_header(BODY.decode(), secret, timestamp=NOW)


def test_a_header_made_by_the_official_client_verifies():
    assert accepted(official(SECRET))
    assert not accepted(official("whsec_another_endpoint"))


def test_any_one_matching_v1_among_several_verifies_during_secret_rotation():
    old = good(secret="whsec_old_secret")
    assert accepted(header(f"t={NOW}", old, good(), "v0=abc"))
    assert not accepted(header(f"t={NOW}", old, "v0=abc"))  # the retired secret alone: refused


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "required"),
        ("", "required"),
        ("garbage", "one t="),
        (header("t=abc", good()), "one t="),
        (header(f"t={NOW}", f"t={NOW}", good()), "one t="),
        (header(f"t=-{NOW}", good()), "one t="),
        (header("t=" + "9" * 40, good()), "one t="),
        (header(f"t={NOW}"), "no v1"),
        (header(f"t={NOW}", f"v0={expected_signature(SECRET, str(NOW), BODY)}"), "no v1"),
        (header(f"t={NOW}", "v1=" + "0" * 64), "matches"),
        (header(f"t={NOW}", "v1=zz"), "matches"),
        (header(f"t={NOW}", good().upper().replace("V1=", "v1=")), "matches"),
        (header(f"t={NOW}", good(secret=SECRET.removeprefix("whsec_"))), "matches"),
        (header(f"t={NOW}", *["v1=00"] * 17), "no v1"),
        (header(f"t={NOW}", good()) + "é", "malformed"),
        ("t=1," + "v1=" + "a" * 5000, "malformed"),
    ],
)
def test_malformed_or_wrong_headers_are_refused(value, reason):
    with pytest.raises(InvalidWebhook, match=reason):
        verify(secret=SECRET, header=value, body=BODY, now=NOW)


def test_one_changed_byte_of_the_body_fails():
    with pytest.raises(InvalidWebhook, match="matches"):
        verify(secret=SECRET, header=header(f"t={NOW}", good()), body=BODY + b" ", now=NOW)


@pytest.mark.parametrize("offset", [-301, 301, -10_000])
def test_timestamps_more_than_five_minutes_off_are_refused_even_if_signed(offset):
    stamp = NOW + offset
    with pytest.raises(InvalidWebhook, match="five minutes"):
        verify(secret=SECRET, header=header(f"t={stamp}", good(stamp)), body=BODY, now=NOW)


@pytest.mark.parametrize("offset", [-300, 0, 299])
def test_timestamps_within_the_tolerance_pass(offset):
    stamp = NOW + offset
    assert accepted(header(f"t={stamp}", good(stamp)))


def test_the_clock_defaults_to_now():
    stamp, stale = int(time.time()), int(time.time()) - 600
    assert accepted(header(f"t={stamp}", good(stamp)), now=None)
    assert not accepted(header(f"t={stale}", good(stale)), now=None)
