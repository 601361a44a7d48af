-- The backbone schema. Every key leads with business_id, so tenants can be told apart by
-- their keys alone (and sharded on PostgreSQL). Times are epoch milliseconds, ids and JSON
-- are text. Tables keyed by composite keys are WITHOUT ROWID: the key is the storage order.

CREATE TABLE businesses (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
) WITHOUT ROWID;

CREATE TABLE programs (
    business_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, version)
) WITHOUT ROWID;

CREATE TABLE api_keys (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_keys_by_id ON api_keys (id);

-- A member's profile: personal data, kept apart from the hot state so that it can be
-- erased on request while the ledger stays.
CREATE TABLE members (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    code TEXT NOT NULL,
    first_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    birthday TEXT,
    language TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
-- A member's balances and aggregates, rewritten by every transaction that touches the
-- member (the full engine state is the JSON column; the others are for queries).
CREATE TABLE member_states (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    points BIGINT NOT NULL,
    points_held BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    spend_cents BIGINT NOT NULL,
    points_earned BIGINT NOT NULL,
    last_visit_at BIGINT,
    tier TEXT,
    next_expiry_at BIGINT,
    state TEXT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
-- The worker finds members with points to expire here, not by scanning every lot.
CREATE INDEX member_states_by_next_expiry ON member_states (business_id, next_expiry_at);
CREATE UNIQUE INDEX members_by_code ON members (business_id, code);
CREATE UNIQUE INDEX members_by_email ON members (business_id, email);
CREATE UNIQUE INDEX members_by_phone ON members (business_id, phone);

CREATE TABLE events (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    type TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    location_id TEXT,
    occurred_at BIGINT NOT NULL,
    voided_at BIGINT,
    record TEXT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
CREATE INDEX events_by_member ON events (business_id, member_id, occurred_at);

CREATE TABLE transfers (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    member_id TEXT,
    unit TEXT NOT NULL,
    debit TEXT NOT NULL,
    credit TEXT NOT NULL,
    amount BIGINT NOT NULL,
    kind TEXT NOT NULL,
    phase TEXT NOT NULL,
    pending_id TEXT,
    event_id TEXT,
    reverses TEXT,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    memo TEXT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
CREATE INDEX transfers_by_member ON transfers (business_id, member_id, created_at);

CREATE TABLE lot_consumptions (
    business_id TEXT NOT NULL,
    transfer_id TEXT NOT NULL,
    lot_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (business_id, transfer_id, lot_id)
) WITHOUT ROWID;
CREATE INDEX lot_consumptions_by_lot ON lot_consumptions (business_id, lot_id);

CREATE TABLE coupons (
    business_id TEXT NOT NULL,
    code TEXT NOT NULL,
    member_id TEXT NOT NULL,
    reward_id TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (business_id, code)
) WITHOUT ROWID;
CREATE INDEX coupons_by_reward ON coupons (business_id, reward_id, member_id);
CREATE INDEX coupons_by_member ON coupons (business_id, member_id);

CREATE TABLE idempotency (
    business_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, key)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
