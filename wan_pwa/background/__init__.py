"""The workers' own machinery: heartbeats, the reaper of tasks lost with a dead worker, and the
scheduler of periodic jobs. It imports no app: the jobs are named by dotted path in settings."""
