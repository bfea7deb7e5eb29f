-- +goose Up
-- Shelves and what they hold: one item per weight channel of a shelf device
-- (the original's inventory items). The brain tracks stock from the weight.
CREATE TABLE dashboard.inventory_items (
    id               BIGSERIAL        PRIMARY KEY,
    device_id        TEXT             NOT NULL CHECK (length(device_id) BETWEEN 1 AND 100),
    channel          TEXT             NOT NULL DEFAULT 'weight' CHECK (length(channel) BETWEEN 1 AND 100),
    zone             TEXT             NOT NULL CHECK (length(zone) BETWEEN 1 AND 100),
    item_name        TEXT             NOT NULL CHECK (length(item_name) BETWEEN 1 AND 100),
    category         TEXT,
    unit_weight_g    DOUBLE PRECISION NOT NULL CHECK (unit_weight_g > 0),
    tare_weight_g    DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (tare_weight_g >= 0),
    min_threshold    INTEGER          NOT NULL DEFAULT 2 CHECK (min_threshold >= 0),
    reorder_quantity INTEGER          NOT NULL DEFAULT 1 CHECK (reorder_quantity >= 1),
    store            TEXT,
    price            INTEGER          CHECK (price >= 0),
    barcode          TEXT,
    is_active        BOOLEAN          NOT NULL DEFAULT true,
    created_at       TIMESTAMPTZ      NOT NULL,
    updated_at       TIMESTAMPTZ      NOT NULL
);
-- A shelf channel weighs one item at a time.
CREATE UNIQUE INDEX inventory_items_shelf ON dashboard.inventory_items (device_id, channel) WHERE is_active;

-- The shopping list; an unpurchased item is listed once per name.
CREATE TABLE dashboard.shopping_items (
    id                BIGSERIAL   PRIMARY KEY,
    name              TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    category          TEXT,
    quantity          INTEGER     NOT NULL DEFAULT 1 CHECK (quantity >= 1),
    unit              TEXT,
    store             TEXT,
    price             INTEGER     CHECK (price >= 0),
    is_purchased      BOOLEAN     NOT NULL DEFAULT false,
    is_recurring      BOOLEAN     NOT NULL DEFAULT false,
    recurrence_days   INTEGER     CHECK (recurrence_days >= 1),
    last_purchased_at TIMESTAMPTZ,
    next_purchase_at  TIMESTAMPTZ,
    notes             TEXT        CHECK (length(notes) <= 500),
    priority          INTEGER     NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 5),
    created_at        TIMESTAMPTZ NOT NULL,
    purchased_at      TIMESTAMPTZ,
    created_by        TEXT        NOT NULL DEFAULT 'user',
    share_token       TEXT
);
CREATE INDEX shopping_items_pending ON dashboard.shopping_items (name) WHERE NOT is_purchased;
CREATE UNIQUE INDEX shopping_items_share ON dashboard.shopping_items (share_token) WHERE share_token IS NOT NULL;

CREATE TABLE dashboard.purchase_history (
    id           BIGSERIAL   PRIMARY KEY,
    item_name    TEXT        NOT NULL,
    category     TEXT,
    store        TEXT,
    price        INTEGER,
    quantity     INTEGER     NOT NULL DEFAULT 1,
    purchased_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX purchase_history_at ON dashboard.purchase_history (purchased_at DESC);

-- +goose Down
DROP TABLE dashboard.purchase_history;
DROP TABLE dashboard.shopping_items;
DROP TABLE dashboard.inventory_items;
