"""Every write to a generation, one module per verb: `submission` (charging and creating),
`transitions` (its life: updates from Replicate, endings, cancel, refunds), `sharing` (share links,
the home page's featured videos and stars) and `deletion` (deleting and storage retention);
`params` is what a user asks for and `errors` the refusals.

Views, API views, admin actions, webhooks, tasks and commands call these, directly or through
generations.lifecycle, which enqueues the work an action leaves to do (`FollowUps`) in the
action's transaction. Actions enqueue nothing themselves, so nothing here imports the tasks.
Lock order, to stay deadlock-free: the generation row first, then (inside credits.actions) the
user's balance row.
"""
