-- A purchase's ledger transfers (points and stamps earned, their reversals) are found
-- through the purchase: the member's events by `events_by_member`, then their transfers by
-- `transfers_by_event`, whose keys are time-ordered and so only ever appended to. Only the
-- transfers tied to no event (adjustments, redemptions, expiry) are indexed by member.
-- Each purchase thus adds one index entry at a random place (its event's) instead of three,
-- and a random place costs a whole page written to disk at the next commit.
DROP INDEX transfers_by_member;
CREATE INDEX transfers_by_member ON transfers (business_id, member_id, created_at)
    WHERE event_id IS NULL;
CREATE INDEX transfers_by_event ON transfers (business_id, event_id)
    WHERE event_id IS NOT NULL;
