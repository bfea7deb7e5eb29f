-- +goose Up
-- Latest value per zone, device and channel, from office/# telemetry.
CREATE TABLE dashboard.sensor_latest (
    zone      TEXT             NOT NULL,
    device_id TEXT             NOT NULL,
    channel   TEXT             NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    at        TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (zone, device_id, channel)
);

-- History for charts; pruned by age (BACKEND_SENSOR_RETENTION).
CREATE TABLE dashboard.sensor_readings (
    id        BIGSERIAL        PRIMARY KEY,
    zone      TEXT             NOT NULL,
    device_id TEXT             NOT NULL,
    channel   TEXT             NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    at        TIMESTAMPTZ      NOT NULL
);
CREATE INDEX sensor_readings_series ON dashboard.sensor_readings (zone, channel, at);
CREATE INDEX sensor_readings_at ON dashboard.sensor_readings (at);

-- Devices as last seen in their heartbeats.
CREATE TABLE dashboard.devices (
    device_id    TEXT        PRIMARY KEY,
    zone         TEXT        NOT NULL,
    parent_id    TEXT,
    device_type  TEXT,
    power_mode   TEXT,
    battery_pct  INTEGER,
    label        TEXT,
    status       TEXT,
    uptime_sec   BIGINT,
    capabilities TEXT[],
    next_wake_at TIMESTAMPTZ,
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL
);

-- What the office said aloud.
CREATE TABLE dashboard.voice_events (
    id         BIGSERIAL   PRIMARY KEY,
    message    TEXT        NOT NULL,
    audio_url  TEXT        NOT NULL DEFAULT '',
    zone       TEXT        NOT NULL DEFAULT '',
    tone       TEXT        NOT NULL DEFAULT 'neutral',
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX voice_events_created ON dashboard.voice_events (created_at DESC);

-- Pre-generated chit-chat phrases; taking one removes it from the stock.
CREATE TABLE dashboard.chitchat_stock (
    id         BIGSERIAL   PRIMARY KEY,
    message    TEXT        NOT NULL,
    audio_url  TEXT        NOT NULL DEFAULT '',
    tone       TEXT        NOT NULL DEFAULT 'neutral',
    created_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE dashboard.chitchat_stock;
DROP TABLE dashboard.voice_events;
DROP TABLE dashboard.devices;
DROP TABLE dashboard.sensor_readings;
DROP TABLE dashboard.sensor_latest;
