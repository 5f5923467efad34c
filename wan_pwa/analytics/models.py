"""Hourly counts: one row per metric, dimension and hour. A few thousand rows a month whatever
the traffic, so the dashboard's reads do not grow with the history; rows older than
ANALYTICS_RETENTION_DAYS are pruned by the roll-ups (rollup.prune)."""

from __future__ import annotations

from django.db import models


class HourlyCount(models.Model):
    """`metric` is namespaced by its writer (`generations.ended`, `events.upload_refused`);
    `dimension` splits it (a status, a model, a reason), "" when it has none. Gauges (a value
    as of the roll-up, e.g. active users) sit at the hour they were measured in."""

    metric = models.CharField(max_length=64)
    dimension = models.CharField(max_length=120, blank=True)
    hour = models.DateTimeField(help_text="Start of the hour (UTC).")
    value = models.BigIntegerField(default=0)

    class Meta:
        app_label = "wan_pwa"
        ordering = ["-hour", "metric", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "dimension", "hour"], name="hourly_count_once_per_hour"
            )
        ]
        indexes = [models.Index(fields=["hour", "metric"], name="hourly_count_hour_metric")]

    def __str__(self) -> str:
        return f"{self.metric}[{self.dimension}] @ {self.hour:%Y-%m-%d %H:00} = {self.value}"


class RollupCursor(models.Model):
    """How far a roll-up has filled its metrics: the next run starts a little before it."""

    source = models.CharField(max_length=32, primary_key=True)
    filled_until = models.DateTimeField()

    class Meta:
        app_label = "wan_pwa"

    def __str__(self) -> str:
        return f"{self.source} until {self.filled_until:%Y-%m-%d %H:%M}"
