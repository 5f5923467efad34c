"""Everything that speaks to Replicate: the gateway (every HTTP call), prediction parsing into a
typed PredictionUpdate, each model's inputs, submission, the watchdog, the output copy and the
recovery of predictions whose id was lost. The actions in generations.actions take the plain
values these modules hand them and never read Replicate's JSON."""
