-- Telegram users, linked to a card or not yet: the language they chose at /start (the card's
-- own language, patrons.language, follows it once linked), and wrong PINs per account, so that
-- trying many cards from one account is slowed down as trying many PINs on one card is.
CREATE TABLE telegram_users (
    telegram_user_id INTEGER PRIMARY KEY,
    language         TEXT,
    pin_failures     INTEGER NOT NULL DEFAULT 0,
    locked_until     TEXT,
    first_seen_at    TEXT NOT NULL
);
