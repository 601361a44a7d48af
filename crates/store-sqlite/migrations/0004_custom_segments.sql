-- Custom segments (SPEC §3): the owner's filter expressions, who is in each now, and the
-- facts the filters ask that the tables so far did not keep: each member's categories
-- bought and tags.

-- The categories a member bought (a JSON array of category keys), kept beside the state
-- that counts them so the worker reads them without parsing every state.
ALTER TABLE member_states ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';

CREATE TABLE member_tags (
    business_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, member_id, tag)
) WITHOUT ROWID;

CREATE TABLE custom_segments (
    business_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    filter TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, slug)
) WITHOUT ROWID;

-- A member is in a custom segment from `since`; entering and leaving are recorded in
-- segment_transitions as `custom:<slug>`.
CREATE TABLE custom_segment_members (
    business_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    member_id TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (business_id, slug, member_id)
) WITHOUT ROWID;
