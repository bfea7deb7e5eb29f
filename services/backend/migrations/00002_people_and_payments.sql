-- +goose Up
-- People who accept tasks; ids are the wallet's user ids.
CREATE TABLE dashboard.users (
    id            BIGSERIAL   PRIMARY KEY,
    username      TEXT        NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.-]{3,40}$'),
    display_name  TEXT        NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
    password_hash TEXT        NOT NULL,
    role          TEXT        NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    is_active     BOOLEAN     NOT NULL DEFAULT true,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- One reward payment per completed task (the primary key makes a second one
-- impossible). Rows stay 'pending' until the wallet confirms; the retry loop
-- claims due rows by pushing next_attempt_at forward (a lease).
CREATE TABLE dashboard.task_payments (
    task_id         BIGINT      PRIMARY KEY REFERENCES dashboard.tasks (id) ON DELETE CASCADE,
    user_id         BIGINT      NOT NULL,
    amount          BIGINT      NOT NULL CHECK (amount > 0), -- milli-units
    status          TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    last_error      TEXT,
    transaction_id  TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    paid_at         TIMESTAMPTZ
);
CREATE INDEX task_payments_due ON dashboard.task_payments (next_attempt_at) WHERE status = 'pending';

-- Expiry is derived from expires_at; this flag only records that the sweeper
-- has written the 'expired' audit entry and told live clients.
ALTER TABLE dashboard.tasks ADD COLUMN expiry_noted BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX tasks_unnoted_expiry ON dashboard.tasks (expires_at) WHERE NOT is_completed AND NOT expiry_noted;
CREATE INDEX task_audit_at ON dashboard.task_audit (at DESC);

-- +goose Down
DROP INDEX dashboard.task_audit_at;
ALTER TABLE dashboard.tasks DROP COLUMN expiry_noted;
DROP TABLE dashboard.task_payments;
DROP TABLE dashboard.users;
