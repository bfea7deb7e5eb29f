-- +goose Up
-- When a zone's device first reported each channel, so that ids seen only
-- briefly (a forged flood, a misconfigured node) expire an hour after they go
-- quiet rather than after BACKEND_DEVICE_RETENTION. Rows older than this
-- migration count as long-lived.
ALTER TABLE dashboard.sensor_latest ADD COLUMN first_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity';
CREATE INDEX sensor_latest_at ON dashboard.sensor_latest (at);
CREATE INDEX devices_last_seen ON dashboard.devices (last_seen);

-- +goose Down
DROP INDEX dashboard.devices_last_seen;
DROP INDEX dashboard.sensor_latest_at;
ALTER TABLE dashboard.sensor_latest DROP COLUMN first_at;
