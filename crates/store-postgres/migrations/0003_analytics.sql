-- Analytics: the answers to the NPS survey (0–10 and a comment), stored through the API
-- now and by the survey page later; they feed the NPS KPI, per location where known.
CREATE TABLE survey_answers (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    score BIGINT NOT NULL,
    comment TEXT NOT NULL,
    location_id TEXT,
    answered_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, id)
);

-- The running aggregates analytics reads instead of history (core: analytics::rollup),
-- added to by every batch. Each app server adds to rows of its own shard, so servers never
-- wait on one another's row locks; readers sum the shards. Days are shop-local, counted
-- from 1 January of year 1; months are year * 12 + month - 1.
CREATE TABLE analytics_days (
    business_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    shard BIGINT NOT NULL,
    new_members BIGINT NOT NULL,
    first_visits BIGINT NOT NULL,
    purchases BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    revenue_cents BIGINT NOT NULL,
    coupons_used BIGINT NOT NULL,
    reward_cost_cents BIGINT NOT NULL,
    points_issued BIGINT NOT NULL,
    points_redeemed BIGINT NOT NULL,
    points_expired BIGINT NOT NULL,
    points_to_members BIGINT NOT NULL,
    lifetime_seconds BIGINT NOT NULL,
    PRIMARY KEY (business_id, day, shard)
);

-- Distinct members per calendar month, quarter and year (span), by its first month.
CREATE TABLE analytics_distinct (
    business_id TEXT NOT NULL,
    span TEXT NOT NULL,
    start_month BIGINT NOT NULL,
    shard BIGINT NOT NULL,
    active BIGINT NOT NULL,
    purchasing BIGINT NOT NULL,
    repeating BIGINT NOT NULL,
    single_kind BIGINT NOT NULL,
    multi_kind BIGINT NOT NULL,
    redeeming BIGINT NOT NULL,
    PRIMARY KEY (business_id, span, start_month, shard)
);

-- Distinct members of each join month active in each month.
CREATE TABLE analytics_cohorts (
    business_id TEXT NOT NULL,
    join_month BIGINT NOT NULL,
    active_month BIGINT NOT NULL,
    shard BIGINT NOT NULL,
    members BIGINT NOT NULL,
    PRIMARY KEY (business_id, join_month, active_month, shard)
);

-- Each member's segments now, as the worker last placed them ('' before a first visit has
-- an RFM segment), and every entry into and exit from a segment, with its time.
CREATE TABLE segment_members (
    business_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    rfm TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, member_id)
);
CREATE TABLE segment_transitions (
    business_id TEXT NOT NULL,
    id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    segment TEXT NOT NULL,
    entered BIGINT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (business_id, id)
);
CREATE INDEX segment_transitions_by_time ON segment_transitions (business_id, at);

-- What the worker last computed of a business as a whole: the lifetime models' fit, the
-- predicted value and the segments' sizes (JSON).
CREATE TABLE analytics_snapshots (
    business_id TEXT NOT NULL PRIMARY KEY,
    computed_at BIGINT NOT NULL,
    snapshot TEXT NOT NULL
);

-- A business's own thresholds for the lifecycle stages (JSON); the defaults without a row.
CREATE TABLE segment_settings (
    business_id TEXT NOT NULL PRIMARY KEY,
    lifecycle_thresholds TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
