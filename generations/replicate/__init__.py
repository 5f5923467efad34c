"""The Replicate client: the gateway (every HTTP call), prediction parsing into a typed
PredictionUpdate, and each model's inputs. It imports nothing of ours above the catalog and the
models; what drives a generation with it is generations.lifecycle, and the actions take the plain
values these modules hand them and never read Replicate's JSON."""
