"""What drives a generation through its life, calling generations.actions: the submission to
Replicate, the updates it sends, the copy of the video, the watchdog and the recovery of lost
predictions. Each module defines the tasks of its own work (thin entry points) and enqueues the
follow-ups an action returns in the action's transaction.

Every import goes down or sideways: scheduling < cancellation < followups < output < transitions
< recovery < watchdog < submission, all above generations.actions, which never imports them.
"""
