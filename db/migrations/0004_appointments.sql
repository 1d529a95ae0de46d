-- Appointments: what the staff card in the group and a cancellation need to remember.
--
-- The staff group's card (chat, topic, message) is edited when the request is decided or
-- cancelled; who decided and when is kept for the staff; a cancellation records who cancelled
-- (the patron or the staff) and the reason the staff gave, which the patron is told.
ALTER TABLE appointments ADD COLUMN staff_chat_id INTEGER;
ALTER TABLE appointments ADD COLUMN staff_thread_id INTEGER;
ALTER TABLE appointments ADD COLUMN staff_message_id INTEGER;
ALTER TABLE appointments ADD COLUMN decided_by INTEGER;
ALTER TABLE appointments ADD COLUMN decided_at TEXT;
ALTER TABLE appointments ADD COLUMN cancelled_by TEXT
    CHECK (cancelled_by IS NULL OR cancelled_by IN ('patron', 'staff'));
ALTER TABLE appointments ADD COLUMN cancel_reason TEXT;

-- One place per patron in a slot: pressing "Book" twice books once.
CREATE UNIQUE INDEX appointments_one_per_patron_slot
    ON appointments(service_id, patron_id, starts_at)
    WHERE state IN ('requested', 'confirmed');
