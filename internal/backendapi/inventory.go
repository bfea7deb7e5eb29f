package backendapi

import (
	"context"
	"net/http"
	"time"
)

// MaxPrice bounds a price (shelf items, shopping), well inside its INTEGER
// column.
const MaxPrice = 1_000_000_000

// InventoryItem maps a shelf's weight channel to what it holds (GET/POST
// /inventory/, the original's shape): quantity = floor((weight − tare) / unit).
type InventoryItem struct {
	ID              int64     `json:"id"`
	DeviceID        string    `json:"device_id"`
	Channel         string    `json:"channel"`
	Zone            string    `json:"zone"`
	ItemName        string    `json:"item_name"`
	Category        *string   `json:"category"`
	UnitWeightG     float64   `json:"unit_weight_g"`
	TareWeightG     float64   `json:"tare_weight_g"`
	MinThreshold    int       `json:"min_threshold"`
	ReorderQuantity int       `json:"reorder_quantity"`
	Store           *string   `json:"store"`
	Price           *int      `json:"price"`
	Barcode         *string   `json:"barcode"`
	IsActive        bool      `json:"is_active"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// InventoryItemInput is the body of POST /inventory/ and PUT /inventory/{id}
// (for PUT, absent fields are kept).
type InventoryItemInput struct {
	DeviceID        *string  `json:"device_id,omitempty"`
	Channel         *string  `json:"channel,omitempty"`
	Zone            *string  `json:"zone,omitempty"`
	ItemName        *string  `json:"item_name,omitempty"`
	Category        *string  `json:"category,omitempty"`
	UnitWeightG     *float64 `json:"unit_weight_g,omitempty"`
	TareWeightG     *float64 `json:"tare_weight_g,omitempty"`
	MinThreshold    *int     `json:"min_threshold,omitempty"`
	ReorderQuantity *int     `json:"reorder_quantity,omitempty"`
	Store           *string  `json:"store,omitempty"`
	Price           *int     `json:"price,omitempty"`
	Barcode         *string  `json:"barcode,omitempty"`
	IsActive        *bool    `json:"is_active,omitempty"`
}

// Stock statuses of a shelf item.
const (
	StockOK  = "ok"
	StockLow = "low"
)

// InventoryLiveItem is one shelf's stock as the brain sees it, pushed to PUT
// /inventory/live-status.
type InventoryLiveItem struct {
	DeviceID       string  `json:"device_id"`
	Channel        string  `json:"channel"`
	Zone           string  `json:"zone"`
	ItemName       string  `json:"item_name"`
	Category       string  `json:"category"`
	Quantity       int     `json:"quantity"`
	MinThreshold   int     `json:"min_threshold"`
	CurrentWeightG float64 `json:"current_weight_g"`
	Status         string  `json:"status"` // ok or low
}

// InventoryLiveStatus is GET /inventory/live-status. UpdatedAt is the
// original's: seconds since the Unix epoch of the last push, 0 before any.
type InventoryLiveStatus struct {
	Items     []InventoryLiveItem `json:"items"`
	UpdatedAt float64             `json:"updated_at"`
}

// ShoppingItem is one entry of the shopping list.
type ShoppingItem struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	Category        *string    `json:"category"`
	Quantity        int        `json:"quantity"`
	Unit            *string    `json:"unit"`
	Store           *string    `json:"store"`
	Price           *int       `json:"price"`
	IsPurchased     bool       `json:"is_purchased"`
	IsRecurring     bool       `json:"is_recurring"`
	RecurrenceDays  *int       `json:"recurrence_days"`
	LastPurchasedAt *time.Time `json:"last_purchased_at"`
	NextPurchaseAt  *time.Time `json:"next_purchase_at"`
	Notes           *string    `json:"notes"`
	Priority        int        `json:"priority"`
	CreatedAt       time.Time  `json:"created_at"`
	PurchasedAt     *time.Time `json:"purchased_at"`
	CreatedBy       string     `json:"created_by"`
	ShareToken      *string    `json:"share_token"`
}

// ShoppingItemInput is the body of POST /shopping/ and PUT /shopping/{id} (for
// PUT, absent fields are kept).
type ShoppingItemInput struct {
	Name           *string `json:"name,omitempty"`
	Category       *string `json:"category,omitempty"`
	Quantity       *int    `json:"quantity,omitempty"`
	Unit           *string `json:"unit,omitempty"`
	Store          *string `json:"store,omitempty"`
	Price          *int    `json:"price,omitempty"`
	IsRecurring    *bool   `json:"is_recurring,omitempty"`
	RecurrenceDays *int    `json:"recurrence_days,omitempty"`
	Notes          *string `json:"notes,omitempty"`
	Priority       *int    `json:"priority,omitempty"`
	CreatedBy      *string `json:"created_by,omitempty"`
}

// ListInventory lists inventory items (active ones when activeOnly).
func (c *Client) ListInventory(ctx context.Context, activeOnly bool) ([]InventoryItem, error) {
	var out []InventoryItem
	path := "/inventory/?active_only=false"
	if activeOnly {
		path = "/inventory/?active_only=true"
	}
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// CreateInventoryItem registers a shelf item (administrator or service).
func (c *Client) CreateInventoryItem(ctx context.Context, in InventoryItemInput) (InventoryItem, error) {
	var out InventoryItem
	err := c.do(ctx, http.MethodPost, "/inventory/", in, &out)
	return out, err
}

// PutInventoryLiveStatus replaces the live stock the dashboard shows
// (service).
func (c *Client) PutInventoryLiveStatus(ctx context.Context, items []InventoryLiveItem) error {
	if items == nil {
		items = []InventoryLiveItem{}
	}
	return c.do(ctx, http.MethodPut, "/inventory/live-status", items, nil)
}

// AddShoppingItem adds to the shopping list (an unpurchased item of the same
// name gets the quantity added instead).
func (c *Client) AddShoppingItem(ctx context.Context, in ShoppingItemInput) (ShoppingItem, error) {
	var out ShoppingItem
	err := c.do(ctx, http.MethodPost, "/shopping/", in, &out)
	return out, err
}
