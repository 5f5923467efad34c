"""A local Replicate: the HTTP API, prediction lifecycle, signed webhooks and real MP4 outputs.

Used by the tests (`ReplicateSimulator(...).start()`) and by `manage.py replicate_simulator`.
It imports nothing from Django, so it runs without settings or a database.
"""

from .config import DEFAULT_WEBHOOK_SECRET, SimulatorConfig
from .markers import MARKERS
from .server import ReplicateSimulator
from .video import render_video
from .wan_models import MODELS

__all__ = [
    "DEFAULT_WEBHOOK_SECRET",
    "MARKERS",
    "MODELS",
    "ReplicateSimulator",
    "SimulatorConfig",
    "render_video",
]
