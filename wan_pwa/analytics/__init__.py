"""The product's own health figures for staff, pre-aggregated (Zulip's analytics tables are the
model): small hourly count rows that the apps fill and the dashboard reads.

Why here: the dashboard must show every app's figures, but wan_pwa sits at the bottom of the
import order. So the table and its writing API live here, each app rolls up its own rows with a
periodic job of its own (`<app>/analytics.py`) and registers the cards that read them
(`<app>/dashboard.py`) from its `ready()`, and the dashboard reads only this table (plus the
task queue, counters and job runs, which are wan_pwa's): no upward import.
"""
