-- What each patron has been told, item by item, so that a digest (one message listing several
-- loans or holds) never announces the same item twice at the same level, while a new item on
-- another day still gets its notice. A cycle claims an item by inserting its row in the same
-- transaction as the outbox row that carries the digest: a second run (or a second process)
-- finds the row and claims nothing.
CREATE TABLE notice_ledger (
    kind      TEXT NOT NULL,     -- due_reminder, overdue, hold_ready, hold_last_call, ...
    subject   TEXT NOT NULL,     -- 'loan:12@2026-05-10' (a renewal is a new subject), 'hold:4'
    level     TEXT NOT NULL,     -- 'd3', 'first_day', 'ready', ...
    patron_id INTEGER NOT NULL REFERENCES patrons(id) ON DELETE CASCADE,
    outbox_id INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
    noted_on  TEXT NOT NULL,     -- the cycle's day (library time)
    PRIMARY KEY (kind, subject, level)
) WITHOUT ROWID;
CREATE INDEX notice_ledger_by_patron ON notice_ledger(patron_id, noted_on);

-- The holds cycle looks for holds that expired recently (to tell the patron who missed one).
CREATE INDEX holds_closed ON holds(state, closed_at) WHERE state = 'expired';
-- The overdue cycle looks for restrictions opened or ended recently (each change told once).
CREATE INDEX suspensions_by_start ON suspensions(started_at);
CREATE INDEX fines_by_created ON fines(created_at);
-- The holds cycle reads the pickup shelf: ready holds by their last day.
CREATE INDEX holds_ready ON holds(expires_on) WHERE state = 'ready';
