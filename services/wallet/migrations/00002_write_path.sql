-- The write path without a shared row and with less work per leg.
--
-- 1. The issuer and burn accounts without a hot row. Every transfer burns a
--    fee and every reward comes from the issuer, so with one cached balance
--    row each, every write waited for the previous one to commit. Their
--    cached balances are now split over 16 shards (system_shards): a leg on a
--    system account moves one shard, picked by the database transaction's
--    id, so concurrent writes almost never share a row. People's balances
--    stay in accounts.balance (system accounts' own rows stay 0); the
--    balances view adds the shards up. A system leg's balance_after is its
--    shard's running balance (entries.shard says which), and
--    /admin/consistency checks each (account, shard) chain. The existing
--    system balances move into shard 0, whose chain the legs written so far
--    (shard 0 by default) continue.
-- 2. A leg may only join a transaction written by the same database
--    transaction (apply_entry checks). The balanced check on the transaction
--    row at commit then covers every leg it will ever have, so the per-leg
--    deferred check and the per-leg foreign keys (one more KEY SHARE lock a
--    leg, on the burn account every transfer's) go: apply_entry proves that
--    the transaction and the account exist, and neither is ever deleted.
-- 3. No leaderboard index: it made every balance update a non-HOT update
--    with two index insertions; the leaderboard sorts the people instead.

-- +goose Up
CREATE TABLE wallet.system_shards (
    account_id bigint NOT NULL REFERENCES wallet.accounts (id),
    shard      smallint NOT NULL, -- 0 to 15: apply_entry takes the transaction id modulo 16
    balance    bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, shard),
    -- Only the issuer may go negative; the burn account only grows.
    CONSTRAINT shard_non_negative CHECK (account_id = 0 OR balance >= 0)
);

INSERT INTO wallet.system_shards (account_id, shard, balance, updated_at)
SELECT a.id, s, CASE WHEN s = 0 THEN a.balance ELSE 0 END, a.updated_at
FROM wallet.accounts a, generate_series(0, 15) s
WHERE a.kind IN ('issuer', 'burn');

ALTER TABLE wallet.accounts DISABLE TRIGGER accounts_balance_guard;
UPDATE wallet.accounts SET balance = 0 WHERE kind <> 'person';
ALTER TABLE wallet.accounts ENABLE TRIGGER accounts_balance_guard;

-- A person's leg is shard 0 (the accounts row); so is every leg written so far.
ALTER TABLE wallet.entries ADD COLUMN shard smallint NOT NULL DEFAULT 0;

ALTER TABLE wallet.entries DROP CONSTRAINT entries_account_id_fkey;
ALTER TABLE wallet.entries DROP CONSTRAINT entries_transaction_id_fkey;
DROP TRIGGER entries_balanced ON wallet.entries;
DROP INDEX wallet.accounts_leaderboard;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION wallet.apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM wallet.transactions WHERE id = NEW.transaction_id AND xmin = pg_current_xact_id()::xid;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transaction % was not written by this database transaction: its legs are final', NEW.transaction_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.account_id > 0 THEN
        NEW.shard := 0;
        UPDATE wallet.accounts SET balance = balance + NEW.amount, updated_at = NEW.created_at
            WHERE id = NEW.account_id
            RETURNING balance INTO NEW.balance_after;
    ELSE
        -- Concurrent transactions have consecutive ids, so they land on
        -- different shards; all legs of one transaction share a shard.
        NEW.shard := pg_current_xact_id()::text::bigint % 16;
        UPDATE wallet.system_shards SET balance = balance + NEW.amount, updated_at = NEW.created_at
            WHERE account_id = NEW.account_id AND shard = NEW.shard
            RETURNING balance INTO NEW.balance_after;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no account %', NEW.account_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'entry_account';
    END IF;
    NEW.id := nextval('wallet.entries_id_seq');
    RETURN NEW;
END $$;
-- +goose StatementEnd

-- Shards move only through journal legs, like accounts.balance.
CREATE TRIGGER system_shards_balance_guard BEFORE UPDATE OF balance ON wallet.system_shards
    FOR EACH ROW WHEN (pg_trigger_depth() = 0 AND OLD.balance IS DISTINCT FROM NEW.balance)
    EXECUTE FUNCTION wallet.forbid_change();
CREATE TRIGGER system_shards_no_delete BEFORE DELETE ON wallet.system_shards
    FOR EACH ROW EXECUTE FUNCTION wallet.forbid_change();
CREATE TRIGGER system_shards_no_truncate BEFORE TRUNCATE ON wallet.system_shards
    FOR EACH STATEMENT EXECUTE FUNCTION wallet.forbid_change();

-- Every account's cached balance: a person's row, or the sum of the shards.
CREATE VIEW wallet.balances AS
SELECT a.id, a.kind, a.balance + coalesce(s.balance, 0) AS balance, a.created_at,
       greatest(a.updated_at, s.updated_at) AS updated_at
FROM wallet.accounts a
LEFT JOIN (SELECT account_id, sum(balance)::bigint AS balance, max(updated_at) AS updated_at
           FROM wallet.system_shards GROUP BY account_id) s ON s.account_id = a.id;

-- +goose Down
-- Legs written in other shards than 0 carry their shard's running balance,
-- which the single-row design would report as a broken chain: refuse.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM wallet.entries WHERE shard <> 0) THEN
        RAISE EXCEPTION 'wallet journal has legs in system shards other than 0: cannot go back to one balance row';
    END IF;
END $$;
-- +goose StatementEnd
DROP VIEW wallet.balances;
ALTER TABLE wallet.accounts DISABLE TRIGGER accounts_balance_guard;
UPDATE wallet.accounts a SET balance = s.balance
    FROM (SELECT account_id, sum(balance)::bigint AS balance FROM wallet.system_shards GROUP BY account_id) s
    WHERE s.account_id = a.id;
ALTER TABLE wallet.accounts ENABLE TRIGGER accounts_balance_guard;
DROP TABLE wallet.system_shards;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION wallet.apply_entry() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE INDEX accounts_leaderboard ON wallet.accounts (balance DESC, id) WHERE kind = 'person';
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON wallet.entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION wallet.check_balanced();
ALTER TABLE wallet.entries ADD CONSTRAINT entries_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES wallet.transactions (id);
ALTER TABLE wallet.entries ADD CONSTRAINT entries_account_id_fkey FOREIGN KEY (account_id) REFERENCES wallet.accounts (id);
ALTER TABLE wallet.entries DROP COLUMN shard;
