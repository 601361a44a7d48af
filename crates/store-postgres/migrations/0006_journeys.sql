-- Journeys (SPEC §5): their definitions (JSON), and each member's enrolment per occasion
-- with the arm of the measurement; the primary key makes a journey act once per member
-- and occasion, however many workers evaluate it at once.
CREATE TABLE journeys (
    business_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, slug)
);

CREATE TABLE journey_enrolments (
    business_id TEXT NOT NULL,
    journey TEXT NOT NULL,
    member_id TEXT NOT NULL,
    occasion TEXT NOT NULL,
    arm TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    PRIMARY KEY (business_id, journey, member_id, occasion)
);
