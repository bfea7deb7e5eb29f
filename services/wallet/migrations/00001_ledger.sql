-- The wallet ledger: accounts, and an append-only double-entry journal
-- (transactions and their legs, "entries"). Balances are derived from the
-- journal: inserting a leg updates its account's cached balance inside the
-- database and stamps balance_after, so the cache cannot drift from the
-- journal through this code path, and /admin/consistency re-checks it.

-- +goose Up
CREATE TABLE wallet.accounts (
    id         bigint PRIMARY KEY,  -- the person's user_id; 0 issuer; -1 burn
    kind       text NOT NULL,
    balance    bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT account_kind CHECK (
        (kind = 'person' AND id > 0) OR (kind = 'issuer' AND id = 0) OR (kind = 'burn' AND id = -1)),
    -- Only the issuer may go negative: people can never overdraw.
    CONSTRAINT balance_non_negative CHECK (kind = 'issuer' OR balance >= 0)
);

INSERT INTO wallet.accounts (id, kind, balance, created_at, updated_at) VALUES
    (0, 'issuer', 0, now(), now()),
    (-1, 'burn', 0, now(), now());

CREATE INDEX accounts_leaderboard ON wallet.accounts (balance DESC, id) WHERE kind = 'person';

CREATE TABLE wallet.transactions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind         text NOT NULL CHECK (kind IN ('task_reward', 'p2p_transfer', 'demurrage')),
    -- The idempotency key: "task:<id>", "p2p:<key>", "demurrage:<period>:<user>".
    reference_id text NOT NULL UNIQUE CHECK (reference_id <> ''),
    amount       bigint NOT NULL CHECK (amount > 0),
    fee          bigint NOT NULL DEFAULT 0 CHECK (fee >= 0 AND fee <= amount),
    from_account bigint NOT NULL REFERENCES wallet.accounts (id),
    to_account   bigint NOT NULL REFERENCES wallet.accounts (id),
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    CHECK (from_account <> to_account)
);

CREATE INDEX transactions_kind_created ON wallet.transactions (kind, created_at);

CREATE SEQUENCE wallet.entries_id_seq;

CREATE TABLE wallet.entries (
    -- Assigned by the trigger below while the account row is locked, so per
    -- account the id order is the order in which balance_after was computed.
    id             bigint PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES wallet.transactions (id),
    account_id     bigint NOT NULL REFERENCES wallet.accounts (id),
    amount         bigint NOT NULL CHECK (amount <> 0),
    balance_after  bigint NOT NULL,
    created_at     timestamptz NOT NULL,
    UNIQUE (transaction_id, account_id)
);
ALTER SEQUENCE wallet.entries_id_seq OWNED BY wallet.entries.id;

CREATE INDEX entries_account ON wallet.entries (account_id, id DESC);

-- Applies a leg to its account: locks the row, moves the balance (the
-- balance_non_negative check refuses an overdraft) and records balance_after.
-- +goose StatementBegin
CREATE FUNCTION wallet.apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wallet.accounts SET balance = balance + NEW.amount, updated_at = NEW.created_at
        WHERE id = NEW.account_id
        RETURNING balance INTO NEW.balance_after;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no account %', NEW.account_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    NEW.id := nextval('wallet.entries_id_seq');
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER entries_apply BEFORE INSERT ON wallet.entries
    FOR EACH ROW EXECUTE FUNCTION wallet.apply_entry();

-- A transaction must have at least two legs summing to zero, checked when
-- the database transaction commits.
-- +goose StatementBegin
CREATE FUNCTION wallet.check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx uuid;
    total bigint;
    legs int;
BEGIN
    IF TG_TABLE_NAME = 'entries' THEN tx := NEW.transaction_id; ELSE tx := NEW.id; END IF;
    SELECT coalesce(sum(amount), 0), count(*) INTO total, legs FROM wallet.entries WHERE transaction_id = tx;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'transaction % is unbalanced: % legs summing to %', tx, legs, total
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER transactions_balanced AFTER INSERT ON wallet.transactions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet.check_balanced();
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON wallet.entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet.check_balanced();

-- The journal is append-only.
-- +goose StatementBegin
CREATE FUNCTION wallet.forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the wallet journal is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd

CREATE TRIGGER transactions_immutable BEFORE UPDATE OR DELETE ON wallet.transactions
    FOR EACH ROW EXECUTE FUNCTION wallet.forbid_change();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON wallet.transactions
    FOR EACH STATEMENT EXECUTE FUNCTION wallet.forbid_change();
CREATE TRIGGER entries_immutable BEFORE UPDATE OR DELETE ON wallet.entries
    FOR EACH ROW EXECUTE FUNCTION wallet.forbid_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON wallet.entries
    FOR EACH STATEMENT EXECUTE FUNCTION wallet.forbid_change();

-- A cached balance moves only through a journal leg (the apply_entry
-- trigger), never by a direct UPDATE.
CREATE TRIGGER accounts_balance_guard BEFORE UPDATE OF balance ON wallet.accounts
    FOR EACH ROW WHEN (pg_trigger_depth() = 0 AND OLD.balance IS DISTINCT FROM NEW.balance)
    EXECUTE FUNCTION wallet.forbid_change();
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON wallet.accounts
    FOR EACH ROW EXECUTE FUNCTION wallet.forbid_change();

-- One row per demurrage period: inserting it is the period's idempotency
-- guard; its totals are filled in by the same database transaction.
CREATE TABLE wallet.demurrage_runs (
    period       bigint PRIMARY KEY,
    period_start timestamptz NOT NULL,
    ran_at       timestamptz NOT NULL,
    charged      int NOT NULL DEFAULT 0,
    burned       bigint NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE wallet.demurrage_runs;
DROP TABLE wallet.entries;
DROP TABLE wallet.transactions;
DROP TABLE wallet.accounts;
DROP FUNCTION wallet.apply_entry();
DROP FUNCTION wallet.check_balanced();
DROP FUNCTION wallet.forbid_change();
