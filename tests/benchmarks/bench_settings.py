"""Settings for bench_http.py's gunicorn: the project's own (read from the environment, which
the benchmark sets), with two extra views for reference figures."""

from wan_pwa.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchmarks.bench_urls"
