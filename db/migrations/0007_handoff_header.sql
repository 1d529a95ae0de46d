-- Talking to a librarian: whether a conversation's topic has its header yet.
--
-- The header (who is asking, her standing, links to her earlier conversations) is posted right
-- after the topic is created; Telegram may fail in between. Remembering it lets the next
-- relay of the patron's messages post it first, so staff always get it, before her messages.
-- Topics made before this column existed had their header posted with them.

ALTER TABLE handoff_conversations ADD COLUMN header_posted INTEGER NOT NULL DEFAULT 0;
UPDATE handoff_conversations SET header_posted = 1 WHERE topic_id IS NOT NULL;
