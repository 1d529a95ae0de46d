"""Notices: scheduled cycles decide what is due and write it to the outbox; a dispatcher sends it.

Everything that tells a patron something outside a conversation (reminders, overdue notices,
"your hold is ready", appointment and interlibrary updates) goes through the outbox, so that it
is written in the same transaction as the decision that caused it and is never sent twice.
"""
