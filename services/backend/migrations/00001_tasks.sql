-- +goose Up
-- Tasks the brain hands to people. Field names follow the original SOMS backend.
CREATE TABLE dashboard.tasks (
    id                  BIGSERIAL PRIMARY KEY,
    title               TEXT        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description         TEXT        NOT NULL DEFAULT '',
    location            TEXT        NOT NULL DEFAULT 'Office',
    zone                TEXT,
    task_type           TEXT[]      NOT NULL DEFAULT ARRAY['general'],
    urgency             SMALLINT    NOT NULL DEFAULT 2 CHECK (urgency BETWEEN 0 AND 4),
    bounty              INTEGER     NOT NULL DEFAULT 1000 CHECK (bounty BETWEEN 500 AND 5000),
    audience            TEXT        NOT NULL DEFAULT 'user' CHECK (audience IN ('user', 'admin')),
    skill_level         TEXT        CHECK (skill_level IN ('junior', 'intermediate', 'senior')),
    min_people_required SMALLINT    NOT NULL DEFAULT 1 CHECK (min_people_required >= 1),
    estimated_duration  INTEGER     NOT NULL DEFAULT 10 CHECK (estimated_duration > 0),
    announcement_audio_url TEXT,
    announcement_text   TEXT,
    completion_audio_url TEXT,
    completion_text     TEXT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ,
    is_queued           BOOLEAN     NOT NULL DEFAULT false,
    dispatched_at       TIMESTAMPTZ,
    assigned_to         BIGINT,
    accepted_at         TIMESTAMPTZ,
    is_completed        BOOLEAN     NOT NULL DEFAULT false,
    completed_at        TIMESTAMPTZ,
    report_status       TEXT        CHECK (report_status IN ('no_issue', 'resolved', 'needs_followup', 'cannot_resolve')),
    completion_note     TEXT        CHECK (length(completion_note) <= 500),
    last_reminded_at    TIMESTAMPTZ,
    region_id           TEXT        NOT NULL DEFAULT 'local'
);

-- Duplicate detection looks up open tasks by title and location.
CREATE INDEX tasks_open_title_location ON dashboard.tasks (title, location) WHERE NOT is_completed;
CREATE INDEX tasks_zone_created ON dashboard.tasks (zone, created_at DESC);

-- Every state change, for the audit trail.
CREATE TABLE dashboard.task_audit (
    id         BIGSERIAL PRIMARY KEY,
    task_id    BIGINT      NOT NULL REFERENCES dashboard.tasks (id) ON DELETE CASCADE,
    action     TEXT        NOT NULL,
    actor      TEXT        NOT NULL,
    note       TEXT,
    at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX task_audit_task ON dashboard.task_audit (task_id, at);

-- +goose Down
DROP TABLE dashboard.task_audit;
DROP TABLE dashboard.tasks;
