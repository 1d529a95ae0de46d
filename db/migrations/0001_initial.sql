-- Bibliobot store, first schema.
--
-- Conventions (so every later migration and query can rely on them):
--   * timestamps are UTC text 'YYYY-MM-DDTHH:MM:SS.ffffffZ' (sortable as text);
--   * *_on columns are calendar dates 'YYYY-MM-DD' in the library's time zone;
--   * money is integer euro cents;
--   * state that can be derived is not stored (a hold's queue position is its rank among the
--     active holds on the record, ordered by placed_at, id);
--   * enumerations are CHECKed so that no code path can write a value the rest cannot read.

-- The network ---------------------------------------------------------------------------------

CREATE TABLE branches (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
    name             TEXT NOT NULL,
    town             TEXT,
    address          TEXT,
    -- The town's patron saint day ('MM-DD'): a local holiday on top of the national ones.
    patron_saint_day TEXT CHECK (patron_saint_day IS NULL OR patron_saint_day GLOB '[01][0-9]-[0-3][0-9]'),
    created_at       TEXT NOT NULL
);

-- Weekly opening hours; several intervals a day are allowed (morning and afternoon).
CREATE TABLE branch_hours (
    branch_id INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    weekday   INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),  -- Monday = 0
    opens     TEXT NOT NULL CHECK (opens GLOB '[0-2][0-9]:[0-5][0-9]'),
    closes    TEXT NOT NULL CHECK (closes GLOB '[0-2][0-9]:[0-5][0-9]'),
    PRIMARY KEY (branch_id, weekday, opens),
    CHECK (opens < closes)
) WITHOUT ROWID;

-- Closures set by the administrators; branch_id NULL closes every branch of the network.
CREATE TABLE closures (
    id        INTEGER PRIMARY KEY,
    branch_id INTEGER REFERENCES branches(id) ON DELETE CASCADE,
    first_on  TEXT NOT NULL,
    last_on   TEXT NOT NULL,
    reason    TEXT,
    CHECK (first_on <= last_on)
);
CREATE INDEX closures_by_branch ON closures(branch_id, first_on);

-- The catalog ---------------------------------------------------------------------------------

-- One bibliographic record. source_key identifies it across re-imports (control number, else
-- system number, else ISBN, else a fingerprint); content_hash tells an unchanged record apart.
CREATE TABLE records (
    id             INTEGER PRIMARY KEY,
    source_key     TEXT NOT NULL UNIQUE,
    marc_format    TEXT NOT NULL CHECK (marc_format IN ('marc21', 'unimarc', 'manual')),
    title          TEXT NOT NULL,
    subtitle       TEXT,
    title_sort     TEXT NOT NULL,
    title_key      TEXT NOT NULL,              -- meaningful words of the title, for exact matches
    responsibility TEXT,
    authors        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(authors)),
    subjects       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(subjects)),
    publisher      TEXT,
    year           INTEGER,
    language       TEXT,
    content_hash   TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE INDEX records_by_title_key ON records(title_key, year DESC, id DESC);

-- ISBNs normalised to ISBN-13, so that an ISBN-10 and its ISBN-13 find the same record.
CREATE TABLE record_isbns (
    isbn      TEXT NOT NULL CHECK (length(isbn) = 13),
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    PRIMARY KEY (isbn, record_id)
) WITHOUT ROWID;
CREATE INDEX record_isbns_by_record ON record_isbns(record_id, position);

-- Search index: rowid = records.id; the text is already folded (accents and case removed)
-- and tokenised by bot.catalog.text, so the index and the queries always agree.
CREATE VIRTUAL TABLE records_fts USING fts5(
    title, authors, subjects, other,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3 4'
);
-- Title matches first, then authors, then subjects, then publisher and series.
INSERT INTO records_fts(records_fts, rank) VALUES ('rank', 'bm25(20.0, 6.0, 2.0, 1.0)');

-- A physical copy.
CREATE TABLE items (
    id                 INTEGER PRIMARY KEY,
    record_id          INTEGER NOT NULL REFERENCES records(id),
    barcode            TEXT NOT NULL UNIQUE CHECK (length(barcode) BETWEEN 1 AND 64),
    home_branch_id     INTEGER NOT NULL REFERENCES branches(id),
    -- Where the copy is (or is travelling to, when in transit).
    location_branch_id INTEGER NOT NULL REFERENCES branches(id),
    shelf_mark         TEXT,
    material_type      TEXT NOT NULL
        CHECK (material_type IN ('book', 'audiovisual', 'periodical', 'audiobook', 'ebook')),
    section            TEXT,                       -- collection / section code (GEN, REF, ...)
    condition          TEXT NOT NULL DEFAULT 'good' CHECK (condition IN ('good', 'poor')),
    published_on       TEXT,                       -- publication date, for rule G3
    not_for_loan       INTEGER NOT NULL DEFAULT 0 CHECK (not_for_loan IN (0, 1)),
    loan_days_override INTEGER CHECK (loan_days_override IS NULL OR loan_days_override > 0), -- G10
    status             TEXT NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'on_loan', 'in_transit', 'on_hold_shelf',
                          'lost', 'damaged', 'withdrawn')),
    transit_arrives_on TEXT,
    origin             TEXT NOT NULL DEFAULT 'marc' CHECK (origin IN ('marc', 'manual', 'generated')),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
-- Covers the per-branch availability of a search result (no table lookups).
CREATE INDEX items_by_record
    ON items(record_id, location_branch_id, status, not_for_loan, condition, section);

-- Patrons and their Telegram accounts ----------------------------------------------------------

CREATE TABLE patrons (
    id             INTEGER PRIMARY KEY,
    card           TEXT NOT NULL UNIQUE CHECK (length(card) BETWEEN 1 AND 32),
    name           TEXT NOT NULL,
    category       TEXT NOT NULL CHECK (category IN ('adult', 'child', 'institution')),
    home_branch_id INTEGER NOT NULL REFERENCES branches(id),
    pin_hash       TEXT,                       -- a slow KDF's output, never the PIN
    language       TEXT NOT NULL DEFAULT 'it',
    registered_on  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE telegram_links (
    patron_id         INTEGER PRIMARY KEY REFERENCES patrons(id) ON DELETE CASCADE,
    telegram_user_id  INTEGER NOT NULL UNIQUE,   -- one card per account, one account per card
    chat_id           INTEGER NOT NULL,
    linked_at         TEXT NOT NULL,
    due_reminders     INTEGER NOT NULL DEFAULT 1 CHECK (due_reminders IN (0, 1)),
    undeliverable_at  TEXT,                      -- the patron blocked the bot (HTTP 403)
    undeliverable_why TEXT
);

-- One-time codes issued at the desk (`bibliobot patron link-code`); only the hash is kept.
CREATE TABLE link_codes (
    code_hash  TEXT PRIMARY KEY,
    patron_id  INTEGER NOT NULL REFERENCES patrons(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

-- Wrong PINs per card, for the lock-out.
CREATE TABLE pin_failures (
    patron_id    INTEGER PRIMARY KEY REFERENCES patrons(id) ON DELETE CASCADE,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
);

-- Circulation ---------------------------------------------------------------------------------

CREATE TABLE loans (
    id               INTEGER PRIMARY KEY,
    item_id          INTEGER NOT NULL REFERENCES items(id),
    patron_id        INTEGER NOT NULL REFERENCES patrons(id),
    branch_id        INTEGER NOT NULL REFERENCES branches(id),  -- the lending branch (G11)
    loaned_at        TEXT NOT NULL,
    due_on           TEXT NOT NULL,
    due_at           TEXT,                      -- exact end of a short loan (G4)
    short_loan       INTEGER NOT NULL DEFAULT 0 CHECK (short_loan IN (0, 1)),
    renewals         INTEGER NOT NULL DEFAULT 0 CHECK (renewals >= 0),
    returned_at      TEXT,
    return_branch_id INTEGER REFERENCES branches(id),
    CHECK (returned_at IS NULL OR returned_at >= loaned_at)
);
-- A copy is never on loan twice.
CREATE UNIQUE INDEX loans_one_open_per_item ON loans(item_id) WHERE returned_at IS NULL;
CREATE INDEX loans_open_by_patron ON loans(patron_id) WHERE returned_at IS NULL;
CREATE INDEX loans_open_by_due ON loans(due_on) WHERE returned_at IS NULL;
CREATE INDEX loans_by_patron ON loans(patron_id, loaned_at);

-- Every renewal, with the receipt the patron was given (G14: it prevails in a dispute).
CREATE TABLE renewals (
    id           INTEGER PRIMARY KEY,
    loan_id      INTEGER NOT NULL REFERENCES loans(id),
    requested_at TEXT NOT NULL,
    old_due_on   TEXT NOT NULL,
    new_due_on   TEXT NOT NULL,
    receipt      TEXT NOT NULL UNIQUE,
    channel      TEXT NOT NULL CHECK (channel IN ('desk', 'telegram', 'cli'))
);
CREATE INDEX renewals_by_loan ON renewals(loan_id);

CREATE TABLE holds (
    id               INTEGER PRIMARY KEY,
    record_id        INTEGER NOT NULL REFERENCES records(id),
    patron_id        INTEGER NOT NULL REFERENCES patrons(id),
    pickup_branch_id INTEGER NOT NULL REFERENCES branches(id),
    placed_at        TEXT NOT NULL,
    state            TEXT NOT NULL
        CHECK (state IN ('waiting', 'suspended', 'in_transit', 'ready',
                         'fulfilled', 'cancelled', 'expired')),
    item_id          INTEGER REFERENCES items(id),  -- the trapped copy (in_transit, ready)
    suspended_until  TEXT,
    ready_on         TEXT,
    expires_on       TEXT,                          -- last day to collect
    closed_at        TEXT,
    CHECK ((state IN ('in_transit', 'ready')) = (item_id IS NOT NULL)
           OR state IN ('fulfilled', 'cancelled', 'expired'))
);
CREATE UNIQUE INDEX holds_one_open_per_patron_record
    ON holds(patron_id, record_id) WHERE state IN ('waiting', 'suspended', 'in_transit', 'ready');
CREATE UNIQUE INDEX holds_one_per_trapped_item
    ON holds(item_id) WHERE state IN ('in_transit', 'ready');
CREATE INDEX holds_queue ON holds(record_id, placed_at, id)
    WHERE state IN ('waiting', 'suspended', 'in_transit', 'ready');
CREATE INDEX holds_by_patron ON holds(patron_id, state);

-- Interlibrary requests (G18).
CREATE TABLE ill_requests (
    id          INTEGER PRIMARY KEY,
    patron_id   INTEGER NOT NULL REFERENCES patrons(id),
    scope       TEXT NOT NULL CHECK (scope IN ('provincial', 'regional', 'national', 'international')),
    title       TEXT NOT NULL,
    author      TEXT,
    isbn        TEXT,
    record_id   INTEGER REFERENCES records(id),
    state       TEXT NOT NULL
        CHECK (state IN ('requested', 'awaiting_consent', 'ordered', 'arrived',
                         'not_available', 'cancelled', 'returned')),
    cost_cents  INTEGER CHECK (cost_cents IS NULL OR cost_cents >= 0),
    consented_at TEXT,                              -- G20: no cost without consent
    requested_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX ill_requests_by_patron ON ill_requests(patron_id, state);

-- Money: fines accrue per loan, payments are separate, the balance is derived.
CREATE TABLE fines (
    id           INTEGER PRIMARY KEY,
    patron_id    INTEGER NOT NULL REFERENCES patrons(id),
    loan_id      INTEGER REFERENCES loans(id),
    kind         TEXT NOT NULL CHECK (kind IN ('overdue', 'lost', 'damaged', 'service')),
    rule         TEXT NOT NULL,                     -- the rule ID that produced it (C7, C9, ...)
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    note         TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE UNIQUE INDEX fines_one_overdue_per_loan ON fines(loan_id) WHERE kind = 'overdue';
CREATE INDEX fines_by_patron ON fines(patron_id);

CREATE TABLE payments (
    id           INTEGER PRIMARY KEY,
    patron_id    INTEGER NOT NULL REFERENCES patrons(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    paid_at      TEXT NOT NULL,
    note         TEXT
);
CREATE INDEX payments_by_patron ON payments(patron_id);

-- Suspensions (C8, G16) and exclusions (G4, G16, G20); open while ended_at IS NULL.
CREATE TABLE suspensions (
    id         INTEGER PRIMARY KEY,
    patron_id  INTEGER NOT NULL REFERENCES patrons(id),
    kind       TEXT NOT NULL CHECK (kind IN ('suspension', 'exclusion', 'short_loan_exclusion')),
    rule       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    started_at TEXT NOT NULL,
    until_on   TEXT,
    ended_at   TEXT,
    ended_by   TEXT
);
CREATE UNIQUE INDEX suspensions_one_open_per_kind_rule
    ON suspensions(patron_id, kind, rule) WHERE ended_at IS NULL;

-- Notices -------------------------------------------------------------------------------------

-- Every notice is a row, written in the same transaction as the decision that caused it; the
-- unique dedupe_key (patron, kind, subject, level, day) makes a second run a no-op.
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    dedupe_key          TEXT NOT NULL UNIQUE,
    patron_id           INTEGER REFERENCES patrons(id) ON DELETE SET NULL,
    chat_id             INTEGER,
    kind                TEXT NOT NULL,
    payload             TEXT NOT NULL CHECK (json_valid(payload)),
    created_at          TEXT NOT NULL,
    not_before          TEXT NOT NULL,
    expires_at          TEXT,
    state               TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'sending', 'sent', 'undeliverable', 'expired')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    sent_at             TEXT,
    telegram_message_id INTEGER
);
CREATE INDEX outbox_due ON outbox(state, not_before) WHERE state IN ('pending', 'sending');

-- Talking to a librarian ----------------------------------------------------------------------

CREATE TABLE handoff_conversations (
    id          INTEGER PRIMARY KEY,
    patron_id   INTEGER REFERENCES patrons(id) ON DELETE SET NULL,
    telegram_user_id INTEGER NOT NULL,
    theme       TEXT NOT NULL,
    branch_id   INTEGER REFERENCES branches(id),
    topic_id    INTEGER,                            -- message_thread_id in the staff group
    state       TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    opened_at   TEXT NOT NULL,
    closed_at   TEXT,
    rating      INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5)
);
CREATE INDEX handoff_by_user ON handoff_conversations(telegram_user_id, state);

CREATE TABLE handoff_messages (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES handoff_conversations(id) ON DELETE CASCADE,
    direction         TEXT NOT NULL CHECK (direction IN ('patron', 'staff', 'note', 'system')),
    sender_user_id    INTEGER,
    sender_name       TEXT,
    content_type      TEXT NOT NULL,
    text              TEXT,
    file_id           TEXT,
    patron_message_id INTEGER,
    staff_message_id  INTEGER,
    created_at        TEXT NOT NULL,
    edited_at         TEXT
);
CREATE INDEX handoff_messages_by_conversation ON handoff_messages(conversation_id, id);

-- Appointments --------------------------------------------------------------------------------

CREATE TABLE appointment_services (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL,
    branch_id         INTEGER NOT NULL REFERENCES branches(id) ON DELETE CASCADE,
    name_it           TEXT NOT NULL,
    name_en           TEXT NOT NULL,
    duration_minutes  INTEGER NOT NULL CHECK (duration_minutes > 0),
    capacity          INTEGER NOT NULL DEFAULT 1 CHECK (capacity > 0),
    min_notice_hours  INTEGER NOT NULL DEFAULT 24 CHECK (min_notice_hours >= 0),
    max_ahead_days    INTEGER NOT NULL DEFAULT 30 CHECK (max_ahead_days > 0),
    cancel_cutoff_hours INTEGER NOT NULL DEFAULT 24 CHECK (cancel_cutoff_hours >= 0),
    UNIQUE (code, branch_id)
);

CREATE TABLE appointment_slots (
    service_id INTEGER NOT NULL REFERENCES appointment_services(id) ON DELETE CASCADE,
    weekday    INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    starts     TEXT NOT NULL CHECK (starts GLOB '[0-2][0-9]:[0-5][0-9]'),
    PRIMARY KEY (service_id, weekday, starts)
) WITHOUT ROWID;

CREATE TABLE appointments (
    id          INTEGER PRIMARY KEY,
    service_id  INTEGER NOT NULL REFERENCES appointment_services(id),
    patron_id   INTEGER NOT NULL REFERENCES patrons(id),
    starts_at   TEXT NOT NULL,
    state       TEXT NOT NULL
        CHECK (state IN ('requested', 'confirmed', 'declined', 'cancelled')),
    note        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX appointments_by_slot ON appointments(service_id, starts_at)
    WHERE state IN ('requested', 'confirmed');
CREATE INDEX appointments_by_patron ON appointments(patron_id, starts_at);

-- Administrator settings ----------------------------------------------------------------------

-- Values owned by administrators and edited at run time (reminder timing, themes, ...).
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL CHECK (json_valid(value)),
    updated_at TEXT NOT NULL,
    updated_by TEXT
) WITHOUT ROWID;
