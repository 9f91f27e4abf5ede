#include "store/migrations.hpp"

#include <fmt/format.h>

#include "store/attachments.hpp"
#include "store/database.hpp"

namespace casemail::store {
namespace {

// Timestamps are ISO 8601 UTC text ("2026-11-22T10:35:00Z"): sortable, readable in sqlite3.
constexpr std::string_view migration_1 = R"sql(
CREATE TABLE contact (
    id            INTEGER PRIMARY KEY,
    full_name     TEXT    NOT NULL DEFAULT '',
    email         TEXT,                        -- as given
    email_norm    TEXT,                        -- lower-cased, for lookup
    phone         TEXT,
    is_guest      INTEGER NOT NULL DEFAULT 0 CHECK (is_guest IN (0, 1)),
    is_registered INTEGER NOT NULL DEFAULT 0 CHECK (is_registered IN (0, 1)),
    archived_at   TEXT,
    merged_into   INTEGER REFERENCES contact(id),
    created_at    TEXT    NOT NULL,
    CHECK (NOT (is_guest = 1 AND is_registered = 1)),
    CHECK (merged_into IS NULL OR merged_into <> id)
);
-- Many contacts may share one address: deliberately not UNIQUE.
CREATE INDEX contact_email_norm ON contact(email_norm);

CREATE TABLE account (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('property', 'business')),
    name             TEXT NOT NULL,
    civic_address    TEXT,
    parcel_id        TEXT,
    ward             TEXT,
    property_type    TEXT,
    business_license TEXT,
    category         TEXT,
    created_at       TEXT NOT NULL
);

CREATE TABLE queue (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    mailbox      TEXT NOT NULL,
    mailbox_norm TEXT NOT NULL UNIQUE,
    display_name TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE sequence (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sequence(name, value) VALUES ('case_token', 0);

CREATE TABLE "case" (
    id                  INTEGER PRIMARY KEY,
    token               TEXT    NOT NULL UNIQUE,
    token_sequence      INTEGER NOT NULL UNIQUE,
    title               TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    status              TEXT    NOT NULL DEFAULT 'active'
                                CHECK (status IN ('active', 'resolved', 'cancelled')),
    customer_contact_id INTEGER NOT NULL REFERENCES contact(id),
    property_account_id INTEGER REFERENCES account(id),
    business_account_id INTEGER REFERENCES account(id),
    origin              TEXT    NOT NULL CHECK (origin IN ('email', 'portal', 'phone', 'walk-in')),
    request_type        TEXT,
    category            TEXT,
    priority            TEXT    NOT NULL DEFAULT 'normal'
                                CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    queue_id            INTEGER REFERENCES queue(id),
    owner               TEXT,
    anonymous           INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
    wants_updates       INTEGER NOT NULL DEFAULT 1 CHECK (wants_updates IN (0, 1)),
    confidential        INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),
    needs_review        INTEGER NOT NULL DEFAULT 0 CHECK (needs_review IN (0, 1)),
    parent_case_id      INTEGER REFERENCES "case"(id),
    acknowledged_at     TEXT,
    resolved_at         TEXT,
    resolution          TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    CHECK (status <> 'resolved' OR resolved_at IS NOT NULL)
);
CREATE INDEX case_queue_status ON "case"(queue_id, status);
CREATE INDEX case_customer ON "case"(customer_contact_id);

-- An account is context, never identity: the kinds must match the column they sit in.
CREATE TRIGGER case_account_kinds_insert BEFORE INSERT ON "case"
WHEN (NEW.property_account_id IS NOT NULL AND
      (SELECT kind FROM account WHERE id = NEW.property_account_id) IS NOT 'property')
  OR (NEW.business_account_id IS NOT NULL AND
      (SELECT kind FROM account WHERE id = NEW.business_account_id) IS NOT 'business')
BEGIN SELECT RAISE(ABORT, 'account kind does not match its case column'); END;

-- A resolved case is read-only until reactivated. Review flags and acknowledgement marks may
-- still change (mail keeps arriving), the case's own content may not.
CREATE TRIGGER case_resolved_read_only BEFORE UPDATE ON "case"
WHEN OLD.status = 'resolved' AND NEW.status = 'resolved' AND (
       NEW.title IS NOT OLD.title OR NEW.description IS NOT OLD.description
    OR NEW.customer_contact_id IS NOT OLD.customer_contact_id
    OR NEW.property_account_id IS NOT OLD.property_account_id
    OR NEW.business_account_id IS NOT OLD.business_account_id
    OR NEW.request_type IS NOT OLD.request_type OR NEW.category IS NOT OLD.category
    OR NEW.priority IS NOT OLD.priority OR NEW.queue_id IS NOT OLD.queue_id
    OR NEW.owner IS NOT OLD.owner OR NEW.anonymous IS NOT OLD.anonymous
    OR NEW.wants_updates IS NOT OLD.wants_updates OR NEW.confidential IS NOT OLD.confidential
    OR NEW.resolution IS NOT OLD.resolution OR NEW.parent_case_id IS NOT OLD.parent_case_id)
BEGIN SELECT RAISE(ABORT, 'case is resolved: reactivate it before editing'); END;

CREATE TABLE email (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER REFERENCES "case"(id),
    direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    message_id  TEXT,
    in_reply_to TEXT,                  -- ids separated by one space, without angle brackets
    refs        TEXT,                  -- References, same form
    subject     TEXT    NOT NULL DEFAULT '',
    body_text   TEXT    NOT NULL DEFAULT '',
    raw         BLOB    NOT NULL,
    raw_sha256  TEXT    NOT NULL,
    mailbox     TEXT,
    received_at TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'received'
);
CREATE UNIQUE INDEX email_unique_message_id ON email(direction, message_id)
    WHERE message_id IS NOT NULL;
CREATE UNIQUE INDEX email_unique_sha256 ON email(direction, raw_sha256)
    WHERE message_id IS NULL;
CREATE INDEX email_message_id ON email(message_id);
CREATE INDEX email_case ON email(case_id);

CREATE TABLE email_party (
    id              INTEGER PRIMARY KEY,
    email_id        INTEGER NOT NULL REFERENCES email(id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('from', 'to', 'cc', 'bcc', 'sender', 'reply-to')),
    display_name    TEXT    NOT NULL DEFAULT '',
    address         TEXT    NOT NULL,
    address_norm    TEXT    NOT NULL,
    contact_id      INTEGER REFERENCES contact(id),
    queue_id        INTEGER REFERENCES queue(id),
    resolved        INTEGER NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1)),
    candidate_count INTEGER NOT NULL DEFAULT 0,
    CHECK (resolved = 0 OR contact_id IS NOT NULL OR queue_id IS NOT NULL)
);
CREATE INDEX email_party_email ON email_party(email_id);
CREATE INDEX email_party_unresolved ON email_party(resolved, candidate_count);

CREATE TABLE email_contact (
    email_id   INTEGER NOT NULL REFERENCES email(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contact(id),
    PRIMARY KEY (email_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX email_contact_contact ON email_contact(contact_id);

CREATE TABLE attachment_blob (
    sha256  TEXT PRIMARY KEY,
    content BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE attachment (
    id           INTEGER PRIMARY KEY,
    email_id     INTEGER NOT NULL REFERENCES email(id) ON DELETE CASCADE,
    filename     TEXT    NOT NULL DEFAULT '',
    content_type TEXT    NOT NULL DEFAULT 'application/octet-stream',
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    stored       INTEGER NOT NULL DEFAULT 1 CHECK (stored IN (0, 1)),   -- content in attachment_blob
    blocked      INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    CHECK (blocked = 0 OR stored = 0)
);
CREATE INDEX attachment_email ON attachment(email_id);

CREATE TABLE event (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    case_id    INTEGER REFERENCES "case"(id),
    contact_id INTEGER REFERENCES contact(id),
    email_id   INTEGER REFERENCES email(id),
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX event_case ON event(case_id);
CREATE INDEX event_contact ON event(contact_id);
)sql";

constexpr std::string_view migration_2 = R"sql(
ALTER TABLE email ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE email ADD COLUMN defects TEXT NOT NULL DEFAULT '';   -- one per line
CREATE INDEX email_sha256 ON email(direction, raw_sha256);

-- Mail that could not be parsed: the raw message is in email, the reason here.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    email_id    INTEGER NOT NULL UNIQUE REFERENCES email(id),
    mailbox     TEXT,
    reason      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    retried_at  TEXT,
    released_at TEXT                  -- set when a retry parsed it
);

-- Outbound mail waiting to be rendered and delivered (acknowledgements, agent replies).
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('ack', 'reply')),
    case_id           INTEGER REFERENCES "case"(id),
    reply_to_email_id INTEGER REFERENCES email(id),
    to_address        TEXT    NOT NULL,
    to_address_norm   TEXT    NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    last_error        TEXT,
    raw               BLOB,
    created_at        TEXT    NOT NULL
);
CREATE INDEX outbox_ack_rate ON outbox(to_address_norm, kind, created_at);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX email_party_review ON email_party(resolved, candidate_count, id);
)sql";

// IMAP polling: where each mailbox stands, and the messages committed but not yet marked
// processed on the server (the acknowledgement journal: written in the commit that stores the
// message, cleared after the server confirmed the flag/move/delete).
constexpr std::string_view migration_3 = R"sql(
CREATE TABLE mailbox_state (
    mailbox_norm  TEXT PRIMARY KEY,
    mailbox       TEXT    NOT NULL,
    folder        TEXT    NOT NULL,
    uidvalidity   INTEGER,
    last_uid      INTEGER NOT NULL DEFAULT 0,
    processed     INTEGER NOT NULL DEFAULT 0,
    backlog       INTEGER,
    last_poll_at  TEXT,
    last_ok_at    TEXT,
    last_error    TEXT,
    last_error_at TEXT,
    failures      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE imap_pending_ack (
    mailbox_norm TEXT    NOT NULL,
    uidvalidity  INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    email_id     INTEGER REFERENCES email(id),
    PRIMARY KEY (mailbox_norm, uidvalidity, uid)
) WITHOUT ROWID;
)sql";

// The outbox grows what delivery needs: the envelope, the recorded outbound email, retry
// bookkeeping, holds, and pass-through mail. SQLite cannot widen a CHECK in place: rebuilt.
constexpr std::string_view migration_4 = R"sql(
CREATE TABLE outbox_v4 (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('ack', 'reply', 'pass_through')),
    case_id           INTEGER REFERENCES "case"(id),
    reply_to_email_id INTEGER REFERENCES email(id),   -- ack: the citizen's email it answers
    email_id          INTEGER REFERENCES email(id),   -- the outbound email recorded on the case
    to_address        TEXT    NOT NULL,
    to_address_norm   TEXT    NOT NULL,
    envelope_from     TEXT,
    envelope_to       TEXT,                           -- one address per line
    message_id        TEXT,
    status            TEXT    NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'delivered', 'failed', 'held')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    last_error        TEXT,
    delivered_at      TEXT,
    hold_reason       TEXT,
    raw               BLOB,                           -- NULL: an ack still to be rendered
    created_at        TEXT    NOT NULL
);
INSERT INTO outbox_v4(id, kind, case_id, reply_to_email_id, to_address, to_address_norm, status, attempts,
                      next_attempt_at, last_error, raw, created_at)
    SELECT id, kind, case_id, reply_to_email_id, to_address, to_address_norm,
           CASE WHEN status IN ('pending', 'delivered', 'failed', 'held') THEN status ELSE 'pending' END,
           attempts, next_attempt_at, last_error, raw, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v4 RENAME TO outbox;
CREATE INDEX outbox_ack_rate ON outbox(to_address_norm, kind, created_at);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
)sql";

// A Message-ID is no longer unique: scanners, phone clients and ticketing systems reuse them,
// and a different message with a known id must be kept, not dropped as a duplicate. The same
// message is now recognised by its fingerprint (matching::message_fingerprint: id, sender,
// date, subject, content); rows from before this migration get theirs when an id collides.
constexpr std::string_view migration_5 = R"sql(
ALTER TABLE email ADD COLUMN fingerprint TEXT;
DROP INDEX email_unique_message_id;
CREATE UNIQUE INDEX email_unique_fingerprint ON email(direction, fingerprint) WHERE fingerprint IS NOT NULL;
)sql";

// The citizen's last email on a case, for threading every outbound message: with only
// email(case_id) SQLite walked every outbound email of the case back to the last inbound one
// (2,000 replies on one case: most of the relay's CPU).
constexpr std::string_view migration_6 = R"sql(
CREATE INDEX email_case_direction ON email(case_id, direction);
)sql";

// Attachments by reference: the raw message is the record, and an attachment row says where its
// part lies in it. Rows written before keep their blob until convert_attachment_blobs() has
// decoded the part from the raw message and reproduced its SHA-256.
constexpr std::string_view migration_7 = R"sql(
ALTER TABLE attachment ADD COLUMN raw_offset INTEGER;          -- bytes into email.raw
ALTER TABLE attachment ADD COLUMN raw_length INTEGER;
ALTER TABLE attachment ADD COLUMN transfer_encoding TEXT;      -- lower-cased; '' for none
)sql";

std::string convert_to_references(Database& db) { return convert_attachment_blobs(db).summary(); }

// Raw messages in their own table. SQLite rewrites a whole row on every UPDATE: with the raw
// message in email, setting an email's outcome right after storing it wrote a 27 MB message
// twice (and every delivery status of an outbound email rewrote its raw copy).
constexpr std::string_view migration_8 = R"sql(
CREATE TABLE email_raw (
    email_id INTEGER PRIMARY KEY REFERENCES email(id) ON DELETE CASCADE,
    raw      BLOB    NOT NULL
);
INSERT INTO email_raw(email_id, raw) SELECT id, raw FROM email;
ALTER TABLE email DROP COLUMN raw;
)sql";

// email_case is a prefix of email_case_direction (migration 6): every query by case uses the
// longer one, and each email insert and outcome update paid for both.
constexpr std::string_view migration_9 = R"sql(
DROP INDEX email_case;
)sql";

// Why each email was linked (method and evidence), the emails waiting for an agent's review
// with the reason, and who opened each case (the flood guard counts them per address and domain).
constexpr std::string_view migration_10 = R"sql(
ALTER TABLE email ADD COLUMN correlation TEXT NOT NULL DEFAULT '';
ALTER TABLE email ADD COLUMN correlation_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE email ADD COLUMN review_reason TEXT;   -- NULL: nothing to review
CREATE INDEX email_review ON email(id) WHERE review_reason IS NOT NULL;
ALTER TABLE "case" ADD COLUMN opened_by TEXT;          -- the sender's normalised address
ALTER TABLE "case" ADD COLUMN opened_by_domain TEXT;
CREATE INDEX case_opened_by ON "case"(opened_by, created_at) WHERE opened_by IS NOT NULL;
CREATE INDEX case_opened_by_domain ON "case"(opened_by_domain, created_at) WHERE opened_by_domain IS NOT NULL;
)sql";

// The case workflow: a team queue's waiting cases (active, unassigned) oldest first, a user's
// cases, a parent's children.
constexpr std::string_view migration_11 = R"sql(
CREATE INDEX case_waiting ON "case"(queue_id, created_at) WHERE status = 'active' AND owner IS NULL;
CREATE INDEX case_owner ON "case"(owner, status) WHERE owner IS NOT NULL;
CREATE INDEX case_parent ON "case"(parent_case_id) WHERE parent_case_id IS NOT NULL;
)sql";

// Resolution types and time spent (the guide's Resolve Case dialog), and notes with attachments
// on a case's timeline.
constexpr std::string_view migration_12 = R"sql(
ALTER TABLE "case" ADD COLUMN resolution_type TEXT;
ALTER TABLE "case" ADD COLUMN time_spent_minutes INTEGER;
CREATE TABLE case_note (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES "case"(id),
    author     TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX case_note_case ON case_note(case_id);
CREATE TABLE note_attachment (
    id           INTEGER PRIMARY KEY,
    note_id      INTEGER NOT NULL REFERENCES case_note(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    UNIQUE (note_id, position)
);
)sql";

// The routing rule that routed a case.
constexpr std::string_view migration_13 = R"sql(
ALTER TABLE "case" ADD COLUMN route_rule TEXT;
)sql";

// SLA clocks: the initial acknowledgement (an agent's reply, or `case ack` for a phone call),
// holds that pause the clocks, the alerts raised once per case, clock and state, and a kind of
// outbox entry for the mail that tells a queue's supervisors (SQLite cannot widen a CHECK: the
// outbox is rebuilt, every row and index kept).
constexpr std::string_view migration_14 = R"sql(
ALTER TABLE "case" ADD COLUMN first_response_at TEXT;
ALTER TABLE "case" ADD COLUMN first_response_by TEXT;
CREATE INDEX case_active ON "case"(created_at) WHERE status = 'active';
CREATE TABLE case_hold (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES "case"(id),
    held_at    TEXT    NOT NULL,
    held_by    TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    resumed_at TEXT,
    resumed_by TEXT
);
CREATE INDEX case_hold_case ON case_hold(case_id, held_at);
CREATE UNIQUE INDEX case_hold_open ON case_hold(case_id) WHERE resumed_at IS NULL;
CREATE TABLE sla_alert (
    case_id   INTEGER NOT NULL REFERENCES "case"(id),
    clock     TEXT    NOT NULL CHECK (clock IN ('first_response', 'resolution')),
    state     TEXT    NOT NULL CHECK (state IN ('warning', 'breached')),
    raised_at TEXT    NOT NULL,
    PRIMARY KEY (case_id, clock, state)
) WITHOUT ROWID;
CREATE TABLE outbox_v14 (
    id                INTEGER PRIMARY KEY,
    kind              TEXT    NOT NULL CHECK (kind IN ('ack', 'reply', 'pass_through', 'alert')),
    case_id           INTEGER REFERENCES "case"(id),
    reply_to_email_id INTEGER REFERENCES email(id),
    email_id          INTEGER REFERENCES email(id),
    to_address        TEXT    NOT NULL,
    to_address_norm   TEXT    NOT NULL,
    envelope_from     TEXT,
    envelope_to       TEXT,
    message_id        TEXT,
    status            TEXT    NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'delivered', 'failed', 'held')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    last_error        TEXT,
    delivered_at      TEXT,
    hold_reason       TEXT,
    raw               BLOB,
    created_at        TEXT    NOT NULL
);
INSERT INTO outbox_v14 SELECT id, kind, case_id, reply_to_email_id, email_id, to_address, to_address_norm,
    envelope_from, envelope_to, message_id, status, attempts, next_attempt_at, last_error, delivered_at,
    hold_reason, raw, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v14 RENAME TO outbox;
CREATE INDEX outbox_ack_rate ON outbox(to_address_norm, kind, created_at);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
)sql";

// Health: when a mailbox started failing and last brought new mail, and the alarms raised (one
// row per alarm while it stands: logged and mailed once per change, then once per repeat).
constexpr std::string_view migration_15 = R"sql(
ALTER TABLE mailbox_state ADD COLUMN failing_since TEXT;
ALTER TABLE mailbox_state ADD COLUMN last_mail_at TEXT;
CREATE TABLE alarm (
    name      TEXT PRIMARY KEY,
    severity  TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    reason    TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    mailed_at TEXT
) WITHOUT ROWID;
)sql";

// The expiry of the OAuth2 access token a mailbox logged in with, for `casemail status`.
constexpr std::string_view migration_16 = R"sql(
ALTER TABLE mailbox_state ADD COLUMN token_expires_at TEXT;
)sql";

// The 311 guide's work-order step: a case handed to the city's asset system is read-only here
// until that system's update resolves it. One row per case (a case resolved there and
// reactivated here may be handed over again: the row is replaced, the events keep the history).
constexpr std::string_view migration_17 = R"sql(
CREATE TABLE work_order (
    case_id      INTEGER PRIMARY KEY REFERENCES "case"(id),
    system       TEXT    NOT NULL,
    document     TEXT    NOT NULL,  -- the file written to the system's outgoing spool
    submitted_at TEXT    NOT NULL,
    submitted_by TEXT    NOT NULL,
    open         INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1)),
    status       TEXT    NOT NULL DEFAULT 'submitted',  -- the other system's word for it
    external_id  TEXT,
    url          TEXT,
    updated_at   TEXT
);
CREATE INDEX work_order_open ON work_order(system, open);

-- Each update file applied once, known by its SHA-256 (a crash between the commit and moving
-- the file aside must not apply it twice).
CREATE TABLE work_order_update (
    sha256     TEXT    PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES "case"(id),
    system     TEXT    NOT NULL,
    file       TEXT    NOT NULL,
    applied_at TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER case_external_read_only BEFORE UPDATE ON "case"
WHEN EXISTS (SELECT 1 FROM work_order WHERE case_id = OLD.id AND open = 1) AND (
       NEW.status IS NOT OLD.status
    OR NEW.title IS NOT OLD.title OR NEW.description IS NOT OLD.description
    OR NEW.customer_contact_id IS NOT OLD.customer_contact_id
    OR NEW.property_account_id IS NOT OLD.property_account_id
    OR NEW.business_account_id IS NOT OLD.business_account_id
    OR NEW.request_type IS NOT OLD.request_type OR NEW.category IS NOT OLD.category
    OR NEW.priority IS NOT OLD.priority OR NEW.queue_id IS NOT OLD.queue_id
    OR NEW.owner IS NOT OLD.owner OR NEW.anonymous IS NOT OLD.anonymous
    OR NEW.wants_updates IS NOT OLD.wants_updates OR NEW.confidential IS NOT OLD.confidential
    OR NEW.resolution IS NOT OLD.resolution OR NEW.parent_case_id IS NOT OLD.parent_case_id)
BEGIN SELECT RAISE(ABORT, 'case is with a work-order system: it changes there'); END;
)sql";

// Knowledge articles (the guide's knowledge base): Markdown text, searched with SQLite FTS5
// (bm25 ranking, Porter stemming so "potholes" finds "pothole"); the index follows the table
// through triggers. Internal articles are for agents only: never mailed to a citizen.
constexpr std::string_view migration_18 = R"sql(
CREATE TABLE kb_article (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    category   TEXT,
    internal   INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
    created_at TEXT    NOT NULL,
    created_by TEXT    NOT NULL
);
CREATE VIRTUAL TABLE kb_search USING fts5(title, body, content = 'kb_article', content_rowid = 'id',
                                          tokenize = 'porter unicode61');
CREATE TRIGGER kb_article_indexed AFTER INSERT ON kb_article BEGIN
    INSERT INTO kb_search(rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;
CREATE TRIGGER kb_article_unindexed AFTER DELETE ON kb_article BEGIN
    INSERT INTO kb_search(kb_search, rowid, title, body) VALUES ('delete', OLD.id, OLD.title, OLD.body);
END;
CREATE TRIGGER kb_article_reindexed AFTER UPDATE ON kb_article BEGIN
    INSERT INTO kb_search(kb_search, rowid, title, body) VALUES ('delete', OLD.id, OLD.title, OLD.body);
    INSERT INTO kb_search(rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;

CREATE TABLE case_kb (
    case_id    INTEGER NOT NULL REFERENCES "case"(id),
    article_id INTEGER NOT NULL REFERENCES kb_article(id),
    linked_at  TEXT    NOT NULL,
    linked_by  TEXT    NOT NULL,
    sent       INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1)),  -- mailed to the customer
    PRIMARY KEY (case_id, article_id)
) WITHOUT ROWID;
)sql";

// The review list's index (resolved, candidate_count, id) serves every query the older
// (resolved, candidate_count) one did; each party row paid for both.
constexpr std::string_view migration_19 = R"sql(
DROP INDEX email_party_unresolved;
)sql";

// An outgoing message is stored once: as the raw of the email recorded on its case, which
// the outbox row points to (raw_is_email), instead of a second copy in the row.
constexpr std::string_view migration_20 = R"sql(
ALTER TABLE outbox ADD COLUMN raw_is_email INTEGER NOT NULL DEFAULT 0 CHECK (raw_is_email IN (0, 1));
)sql";

// Identical bytes are looked up only among emails without a Message-ID, which the unique
// index email_unique_sha256 holds; a message with one is found again by its Message-ID and
// fingerprint. The index on every email's digest cost each ingested message a random b-tree
// page (a SHA-256 has no locality), written to the WAL and again by the checkpoint.
constexpr std::string_view migration_21 = R"sql(
DROP INDEX IF EXISTS email_sha256;
)sql";

// One index answers both questions asked of a Message-ID: which emails carry it (the reply
// chain, a re-fetched copy) and whether this very message is stored already. The fingerprint
// hashes the Message-ID with the rest (matching::message_fingerprint), so it repeats only with
// its Message-ID: unique (message_id, direction, fingerprint) is unique (direction,
// fingerprint). The two indexes cost each ingested message a random b-tree page more (a
// fingerprint has no locality): 1.2 of its 14.7 WAL frames in bench_ingest at 1,000,000 cases.
constexpr std::string_view migration_22 = R"sql(
CREATE UNIQUE INDEX email_message_id_fingerprint ON email(message_id, direction, fingerprint);
DROP INDEX email_unique_fingerprint;
DROP INDEX email_message_id;
)sql";

// Nothing reads the audit log by contact (a case's history is read by case), and contacts are
// never deleted (merged and archived instead), so no foreign-key check needs the index either.
// Each ingested message paid for it with two or three index inserts, one of them a random page
// (a registered customer's id): 0.38 of its WAL frames in bench_ingest at 1,000,000 cases.
constexpr std::string_view migration_23 = R"sql(
DROP INDEX event_contact;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> all = {
        {1, "contacts, accounts, queues, cases, emails, parties, attachments, audit log",
         migration_1},
        {2, "quarantine, outbox, email status reason and defects", migration_2},
        {3, "IMAP mailbox state and acknowledgement journal", migration_3},
        {4, "outbox: envelope, recorded email, retries, holds, pass-through", migration_4},
        {5, "emails: a Message-ID may be reused; the same message is found by its fingerprint", migration_5},
        {6, "emails: an index for a case's last inbound email", migration_6},
        {7, "attachments by reference into the raw message", migration_7, convert_to_references},
        {8, "raw messages in their own table, never rewritten", migration_8},
        {9, "emails: drop the index that another one's prefix covers", migration_9},
        {10, "emails: correlation evidence and review reasons; cases: who opened them", migration_10},
        {11, "cases: indexes for team queues, owners and children", migration_11},
        {12, "cases: resolution type and time spent; notes with attachments", migration_12},
        {13, "cases: the routing rule that routed them", migration_13},
        {14, "SLA clocks: first response, holds, alerts; outbox alert mail", migration_14},
        {15, "health: mailboxes failing since and last mail; alarms", migration_15},
        {16, "mailboxes: OAuth2 access token expiry", migration_16},
        {17, "work orders: cases handed to the city's work-order system, and its updates", migration_17},
        {18, "knowledge articles with full-text search; the articles that helped a case", migration_18},
        {19, "parties: drop the index that another one's prefix covers", migration_19},
        {20, "outbox: a message recorded on its case is stored once", migration_20},
        {21, "emails: identical bytes are a duplicate key only without a Message-ID", migration_21},
        {22, "emails: one index for the Message-ID and the fingerprint", migration_22},
        {23, "audit log: drop the index by contact that nothing reads", migration_23},
    };
    return all;
}

int migrate(Database& db, std::vector<std::string>* notes) {
    auto current = [&] {
        auto st = db.prepare("PRAGMA user_version");
        st.step();
        return static_cast<int>(st.int64(0));
    };
    int version = current();
    int newest = migrations().back().version;
    if (version > newest)
        throw Error(1, fmt::format("store '{}' has schema version {}, newer than this casemail "
                                   "understands ({}); upgrade casemail",
                                   db.path(), version, newest));
    for (const auto& m : migrations()) {
        if (m.version <= version) continue;
        Transaction tx(db);
        // Re-read inside the write lock: another process may have migrated meanwhile.
        if (current() >= m.version) continue;
        db.exec(m.sql);
        if (m.convert) {
            auto note = m.convert(db);
            if (notes && !note.empty()) notes->push_back(fmt::format("migration {}: {}", m.version, note));
        }
        db.exec(fmt::format("PRAGMA user_version = {}", m.version));
        tx.commit();
        version = m.version;
    }
    return version;
}

}  // namespace casemail::store
