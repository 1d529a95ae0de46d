-- Talking to a librarian: what the first schema did not carry.
--
-- A conversation is one forum topic in the staff group. When that topic is lost (deleted or
-- closed by hand in Telegram) the conversation ends with closed_by = 'topic' and the patron's
-- next message opens a new conversation (a new topic) with the same theme and branch, so every
-- topic link in the history stays true to what it showed.

ALTER TABLE handoff_conversations ADD COLUMN chat_id INTEGER;      -- the patron's private chat
ALTER TABLE handoff_conversations ADD COLUMN language TEXT;        -- the patron's, at opening
ALTER TABLE handoff_conversations ADD COLUMN closed_by TEXT
    CHECK (closed_by IS NULL OR closed_by IN ('staff', 'patron', 'topic', 'ban'));

-- One open conversation per Telegram account: a burst of messages can never open two.
CREATE UNIQUE INDEX handoff_one_open_per_user
    ON handoff_conversations(telegram_user_id) WHERE state = 'open';
CREATE INDEX handoff_by_topic ON handoff_conversations(topic_id);
CREATE INDEX handoff_by_patron ON handoff_conversations(patron_id, opened_at);

-- Relayed messages are found again by either side's message id (edits, replies).
CREATE INDEX handoff_messages_by_staff_copy ON handoff_messages(staff_message_id);
CREATE INDEX handoff_messages_by_patron_copy ON handoff_messages(conversation_id, patron_message_id);

-- Accounts staff banned from the chat with the librarians (/ban in a topic), for abuse. A ban
-- outlives /forget: forgetting must not be a way round it.
CREATE TABLE handoff_bans (
    telegram_user_id INTEGER PRIMARY KEY,
    banned_at        TEXT NOT NULL,
    banned_by        INTEGER,
    reason           TEXT
);
