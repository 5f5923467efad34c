"""Signals of the accounts, so the apps above (credits) react to them without accounts importing
any app."""

from django.dispatch import Signal

# Sent inside the transaction that creates a user (sign-up, `create_user`, `createsuperuser`, the
# admin), with `user`: a receiver's writes commit or roll back together with the new account.
user_created = Signal()

# Sent by the data export's task (build_data_export) with `user`: each app answers with the
# ExportSection(s) of what it holds about them, so accounts never read another app's tables.
collecting_data_export = Signal()

# Sent by accounts.deletion with `user` once the account is closed (inactive, so nothing new
# starts): each app erases what it holds about them (generations: cancels and refunds what is
# running, removes the files and the prompts, drops devices). Receivers run their own
# transactions and must be idempotent: a deletion interrupted halfway is simply run again.
deleting_account = Signal()
