-- Wrong PINs per Telegram account, apart from telegram_users: /forget deletes that row (the
-- account's language, its link), and with it went the account's count of wrong PINs, so an
-- account could guess four PINs, /forget, and guess four more. The count now lives here,
-- keyed by a hash of the Telegram user id (nothing else about the account), and /forget
-- leaves it. A row exists only while there is something to count: a right PIN removes it,
-- and a lock that has ended is as good as none.
CREATE TABLE pin_attempts (
    account_hash TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until TEXT
);

-- telegram_users without its two counting columns (rebuilt: DROP COLUMN needs SQLite 3.35).
-- A count in progress when this runs starts again from zero, at most once.
CREATE TABLE telegram_users_new (
    telegram_user_id INTEGER PRIMARY KEY,
    language         TEXT,
    first_seen_at    TEXT NOT NULL
);
INSERT INTO telegram_users_new (telegram_user_id, language, first_seen_at)
    SELECT telegram_user_id, language, first_seen_at FROM telegram_users;
DROP TABLE telegram_users;
ALTER TABLE telegram_users_new RENAME TO telegram_users;
