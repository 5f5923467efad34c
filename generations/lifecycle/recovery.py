"""Finding a prediction that Replicate created for a generation whose id we never saved.

That happens when the submit task crashed (or its answer was lost to a timeout) after Replicate
had accepted the create call. Replicate's list of recent predictions is searched for one that
carries our webhook URL or, when the list does not show webhook URLs, that runs the generation's
model on exactly the input the attempt sent (kept on the generation before the call) and belongs
to no other generation.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.dateparse import parse_datetime

from generations.models import Generation
from generations.replicate import gateway, predictions
from generations.replicate.inputs import comparable_input, replicate_model, webhook_url
from generations.replicate.predictions import PredictionUpdate

# Clocks differ: look a little before the generation was created.
CLOCK_MARGIN = timedelta(minutes=2)


def find_prediction(generation: Generation) -> PredictionUpdate | None:
    """The prediction an earlier attempt created for the generation, or None (gateway errors
    propagate)."""
    since = generation.created_at - CLOCK_MARGIN
    our_webhook = webhook_url(generation)
    model = replicate_model(generation)
    # None when no attempt got as far as sending: then only our webhook URL can match.
    sent = generation.replicate_input
    candidates: list[gateway.Prediction] = []
    for prediction in gateway.recent_predictions(since):
        created = parse_datetime(str(prediction.get("created_at") or ""))
        if created is not None and created < since:
            break  # newest first: everything further is older
        if not predictions.is_wellformed(prediction):
            continue
        if prediction.get("webhook"):
            if prediction["webhook"] == our_webhook:
                return predictions.parse(prediction)
            continue
        given = prediction.get("input")
        if (
            sent is not None
            and prediction.get("model") == model
            and isinstance(given, dict)
            and comparable_input(given) == sent
        ):
            candidates.append(prediction)
    # Its own webhook may have adopted it meanwhile: only other generations' claims count.
    taken = set(
        Generation.objects.filter(prediction_id__in=[candidate["id"] for candidate in candidates])
        .exclude(pk=generation.pk)
        .values_list("prediction_id", flat=True)
    )
    unclaimed = [candidate for candidate in candidates if candidate["id"] not in taken]
    # The list is newest first; the earliest unclaimed one is the likeliest to be ours.
    return predictions.parse(unclaimed[-1]) if unclaimed else None
