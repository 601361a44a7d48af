-- What the web faces need: staff who log in, sessions (staff at the counter and back
-- office, members on their card), and the proof of each consent a member gave.

-- Staff log in by email, which is unique in the whole instance so the login page needs
-- no business picker. Passwords are stored as argon2id PHC strings.
CREATE TABLE staff (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX staff_by_email ON staff (email);

-- A session token is `<id>_<secret>`; only the secret's SHA-256 is stored. The subject is
-- a staff member or a member, as `kind` says.
CREATE TABLE sessions (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);

-- Consents as proof (DSGVO Art. 7): purpose, channel ('' for the terms), the version of
-- the text shown, where and when. Withdrawal sets withdrawn_at; rows are never deleted
-- while the member exists.
CREATE TABLE consents (
    business_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    given_at BIGINT NOT NULL,
    text_version TEXT NOT NULL,
    source TEXT NOT NULL,
    withdrawn_at BIGINT,
    PRIMARY KEY (business_id, member_id, purpose, channel, given_at)
) WITHOUT ROWID;

-- Erasure (DSGVO Art. 17): the profile's personal data is blanked and the time kept; the
-- ledger stays, keyed by the member's random id, which no longer leads to a person.
ALTER TABLE members ADD COLUMN erased_at BIGINT;

-- A shop's own settings: its colour and the call to action on its QR material, how long
-- after a purchase a cashier may still void it, and its legal texts (imprint, privacy
-- notice, terms; empty: the product's defaults). One row per business.
CREATE TABLE shop_settings (
    business_id TEXT NOT NULL PRIMARY KEY,
    brand_color TEXT NOT NULL,
    call_to_action TEXT NOT NULL,
    void_window_minutes BIGINT NOT NULL,
    imprint TEXT NOT NULL DEFAULT '',
    privacy_notice TEXT NOT NULL DEFAULT '',
    terms TEXT NOT NULL DEFAULT '',
    logo_version BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;

-- A business's shops (a café with two branches): purchases at the counter are booked to
-- the location the device is set to.
CREATE TABLE locations (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, id)
) WITHOUT ROWID;

-- A shop's logo (PNG, JPEG or WebP, base64), read only when the image itself is asked for;
-- shop_settings.logo_version says whether there is one and busts caches when it changes.
CREATE TABLE shop_logos (
    business_id TEXT NOT NULL PRIMARY KEY,
    content_type TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at BIGINT NOT NULL
) WITHOUT ROWID;
