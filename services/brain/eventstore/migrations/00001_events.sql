-- +goose Up
-- The brain's decision log: what it perceived and what it decided.
CREATE TABLE events.raw_events (
    id            BIGSERIAL PRIMARY KEY,
    ts            TIMESTAMPTZ NOT NULL,
    zone          TEXT        NOT NULL,
    event_type    TEXT        NOT NULL,          -- sensor_reading | world_model_<type>
    source_device TEXT,
    data          JSONB       NOT NULL DEFAULT '{}',
    region_id     TEXT        NOT NULL DEFAULT 'local'
);
CREATE INDEX raw_events_ts ON events.raw_events (ts);
CREATE INDEX raw_events_zone_type_ts ON events.raw_events (zone, event_type, ts);

CREATE TABLE events.llm_decisions (
    id               BIGSERIAL PRIMARY KEY,
    ts               TIMESTAMPTZ NOT NULL,
    mode             TEXT        NOT NULL CHECK (mode IN ('llm', 'rule_fallback', 'rule_inactive')),
    outcome          TEXT        NOT NULL,
    duration_ms      INTEGER     NOT NULL CHECK (duration_ms >= 0),
    iterations       INTEGER     NOT NULL CHECK (iterations >= 0),
    total_tool_calls INTEGER     NOT NULL CHECK (total_tool_calls >= 0),
    trigger_events   JSONB       NOT NULL DEFAULT '[]',
    tool_calls       JSONB       NOT NULL DEFAULT '[]',
    error            TEXT,
    region_id        TEXT        NOT NULL DEFAULT 'local'
);
CREATE INDEX llm_decisions_ts ON events.llm_decisions (ts);

CREATE TABLE events.device_registry_snapshot (
    id      SMALLINT    PRIMARY KEY CHECK (id = 1),
    ts      TIMESTAMPTZ NOT NULL,
    devices JSONB       NOT NULL
);

-- +goose Down
DROP TABLE events.device_registry_snapshot;
DROP TABLE events.llm_decisions;
DROP TABLE events.raw_events;
