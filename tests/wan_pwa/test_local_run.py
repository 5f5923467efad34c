"""`make run` on a fresh machine: push works without configuring VAPID keys."""

from __future__ import annotations

import stat
from pathlib import Path

from py_vapid import Vapid
from pytest_django import Settings

from tests.generations.test_notifications_push import public_bytes, unb64url
from wan_pwa.management.commands.run_local import local_vapid_keys


def test_the_first_start_makes_a_private_vapid_pair_and_later_starts_reuse_it(
    settings: Settings, tmp_path: Path
):
    settings.DATA_DIR = tmp_path / "data"
    keys = local_vapid_keys()
    assert set(keys) == {"WEBPUSH_VAPID_PUBLIC_KEY", "WEBPUSH_VAPID_PRIVATE_KEY"}
    private = Vapid.from_string(keys["WEBPUSH_VAPID_PRIVATE_KEY"])
    assert unb64url(keys["WEBPUSH_VAPID_PUBLIC_KEY"]) == public_bytes(private.private_key)
    kept = settings.DATA_DIR / "vapid.env"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # Browsers subscribed with the first pair keep receiving pushes after a restart.
    assert local_vapid_keys() == keys
