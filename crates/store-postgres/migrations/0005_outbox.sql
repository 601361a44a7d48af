-- Double opt-in and the outbox (SPEC §5, §8): a marketing consent by email counts once the
-- member confirmed it from the mail sent to them; every message goes through the outbox,
-- written in the transaction that decided to send it and delivered by the worker.

-- When the member confirmed the consent; given consents other than marketing by email
-- need no confirmation and count from when they were given.
ALTER TABLE consents ADD COLUMN confirmed_at BIGINT;
UPDATE consents SET confirmed_at = given_at WHERE NOT (purpose = 'marketing' AND channel = 'email');

-- One row per message: what to send to whom and why (`kind`, and the `occasion` that makes
-- it once per member), its delivery status, its attempts and when to try next. A worker
-- delivers a message only while it holds its lease, so two workers never send it twice.
CREATE TABLE outbox (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    occasion TEXT NOT NULL,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (business_id, id)
);
CREATE UNIQUE INDEX outbox_once_per_occasion ON outbox (business_id, member_id, kind, occasion);
CREATE INDEX outbox_due ON outbox (business_id, status, next_attempt_at);

-- Addresses a mail server refused for good: nothing more is sent to them.
CREATE TABLE email_bounces (
    business_id TEXT NOT NULL,
    address TEXT NOT NULL,
    bounced_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (business_id, address)
);
