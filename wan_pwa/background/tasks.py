"""The scheduler's task under its old path, for runs enqueued before it moved beside its work
(wan_pwa.background.scheduler). Nothing imports this module."""

from wan_pwa.background.scheduler import run_periodic_job

__all__ = ["run_periodic_job"]
