-- Answers to a survey mailed by a journey (SPEC §5): one per mail, changed when the
-- member answers again; a comment the member allows to be published carries the time of
-- that consent.
ALTER TABLE survey_answers ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
ALTER TABLE survey_answers ADD COLUMN publish_consent_at BIGINT;

-- A copy of a journey's message as the member got it, for the message box on their card.
ALTER TABLE outbox ADD COLUMN subject TEXT;
ALTER TABLE outbox ADD COLUMN body TEXT;
