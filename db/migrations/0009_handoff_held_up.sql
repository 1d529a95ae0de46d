-- Talking to a librarian: which patron messages she was told are held up.
--
-- When Telegram refuses a message for longer than the quick retries, the patron is told it is
-- held up but kept; once it reaches staff she is told so. Remembering it on the message (not in
-- the bot's memory) means a restart in between does not leave her without that second word.

ALTER TABLE handoff_messages ADD COLUMN held_up INTEGER NOT NULL DEFAULT 0;
