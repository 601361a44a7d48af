-- Fixed planner statistics. Without them SQLite guesses that an equality on an index's first
-- column leaves about ten rows, so `business_id = ?` on a table's primary key looks as
-- selective as any other index, and it reads the whole business (every transfer, every lot
-- consumption) to find one member's rows. These rows describe a large business instead: ten
-- businesses per database, and how many rows each further key column leaves. They are hints
-- of shape, not measurements, and so never go stale; nothing here runs ANALYZE.
-- Format (sqlite_stat1): rows in the index, then the rows one value of its first 1, 2, … columns
-- leaves.
ANALYZE sqlite_schema;
DELETE FROM sqlite_stat1;
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('transfers', 'sqlite_autoindex_transfers_1', '20000000 2000000 1'),
    ('transfers', 'transfers_by_member', '2000000 200000 20 1'),
    ('transfers', 'transfers_by_event', '18000000 1800000 2'),
    ('events', 'sqlite_autoindex_events_1', '10000000 1000000 1'),
    ('events', 'events_by_member', '10000000 1000000 100 1'),
    ('lot_consumptions', 'sqlite_autoindex_lot_consumptions_1', '2000000 200000 2 1'),
    ('lot_consumptions', 'lot_consumptions_by_lot', '2000000 200000 3'),
    ('coupons', 'sqlite_autoindex_coupons_1', '1000000 100000 1'),
    ('coupons', 'coupons_by_member', '1000000 100000 10'),
    ('coupons', 'coupons_by_reward', '1000000 100000 20000 5'),
    ('members', 'sqlite_autoindex_members_1', '1000000 100000 1'),
    ('members', 'members_by_code', '1000000 100000 1'),
    ('members', 'members_by_email', '1000000 100000 1'),
    ('members', 'members_by_phone', '1000000 100000 1'),
    ('member_states', 'sqlite_autoindex_member_states_1', '1000000 100000 1'),
    ('member_states', 'member_states_by_next_expiry', '1000000 100000 20'),
    ('outbox', 'sqlite_autoindex_outbox_1', '1000000 100000 1'),
    ('outbox', 'outbox_due', '1000000 100000 30000 10'),
    ('outbox', 'outbox_once_per_occasion', '1000000 100000 10 3 1'),
    ('segment_transitions', 'sqlite_autoindex_segment_transitions_1', '1000000 100000 1'),
    ('segment_transitions', 'segment_transitions_by_time', '1000000 100000 3');
-- Loads the rows above into this connection's planner (the others read them when they open).
ANALYZE sqlite_schema;
