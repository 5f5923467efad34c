"""The workers' own machinery: heartbeats, the reaper of tasks lost with a dead worker, the time
limit on each task, and the scheduler of periodic jobs. It imports no app: each app registers
its jobs from its `AppConfig.ready()` (scheduler.register_job)."""
