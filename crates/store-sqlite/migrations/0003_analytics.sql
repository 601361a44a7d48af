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
) WITHOUT ROWID;
