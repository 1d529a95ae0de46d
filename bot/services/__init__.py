"""The service layer: every operation on the store that a person or a cycle asks for.

Each operation runs in one transaction (``Store.transaction``, ``BEGIN IMMEDIATE``): it reads
the facts, asks the pure circulation domain (``bot.circulation``) for a decision, and writes
the outcome, or raises :class:`~bot.services.errors.Refusal` with a stable reason code and
writes nothing. The desk's command line, the Telegram handlers and the scheduled cycles all
call these functions, so the rules hold whoever asks.
"""
