-- Where each interlibrary request's card sits in the staff group, so that a change the patron
-- makes (consent, refusal, withdrawal) edits the card staff act on (G18, G20).
CREATE TABLE ill_staff_cards (
    request_id  INTEGER PRIMARY KEY REFERENCES ill_requests(id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL,
    thread_id   INTEGER,
    message_id  INTEGER NOT NULL,
    posted_at   TEXT NOT NULL
);
