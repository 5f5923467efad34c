"""The generations' background tasks, where the worker finds them by their old paths.

Each task is defined beside its work (generations.lifecycle, generations.notifications.delivery)
and enqueued under that path; tasks enqueued before they moved there are stored under
`generations.tasks.<name>`, and these names keep them runnable. Nothing imports this module.
"""

from generations.lifecycle.cancellation import cancel_prediction
from generations.lifecycle.output import copy_output
from generations.lifecycle.submission import submit_prediction
from generations.lifecycle.watchdog import watch_generation
from generations.notifications.delivery import send_notifications

__all__ = [
    "cancel_prediction",
    "copy_output",
    "send_notifications",
    "submit_prediction",
    "watch_generation",
]
