"""The SQLite store: migrations, the connection discipline, and async repositories.

Nothing here knows about Telegram. Every write happens inside :meth:`db.store.Store.transaction`,
one transaction per operation, so a failure never leaves half an operation behind.
"""
