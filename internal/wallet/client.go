package wallet

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/somsgo/soms/internal/httpx"
)

// Client calls the wallet service (WALLET_SERVICE_URL, e.g.
// http://wallet:8003). It is safe for concurrent use.
type Client struct {
	api httpx.Client
}

// NewClient returns a client for the wallet at baseURL that authenticates its
// writes with token (INTERNAL_SERVICE_TOKEN). hc nil uses a client with a
// 10 s timeout.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	api := httpx.Client{Name: "wallet", BaseURL: strings.TrimRight(baseURL, "/"), HTTP: hc}
	if token != "" {
		api.Header = http.Header{ServiceTokenHeader: {token}}
	}
	return &Client{api: api}
}

// APIError is a 4xx or 5xx answer from the wallet.
type APIError = httpx.APIError

// PayTaskReward pays r from the system issuer. It is idempotent per task: a
// repeat for the same task returns the first transaction with Duplicate set;
// a repeat with a different user or amount is a 409 APIError.
func (c *Client) PayTaskReward(ctx context.Context, r TaskReward) (Transaction, error) {
	var t Transaction
	err := c.api.Do(ctx, http.MethodPost, "/transactions/task-reward", r, &t)
	return t, err
}

// Transfer moves t.Amount between two people; the fee is burned.
func (c *Client) Transfer(ctx context.Context, t Transfer) (Transaction, error) {
	var out Transaction
	var h http.Header
	if t.IdempotencyKey != "" {
		h = http.Header{IdempotencyKeyHeader: {t.IdempotencyKey}}
	}
	err := c.api.Call(ctx, httpx.Request{Method: http.MethodPost, Path: "/transactions/p2p-transfer", Header: h, JSON: t}, &out)
	return out, err
}

// OpenWallet creates the wallet of userID, or returns it if it exists.
func (c *Client) OpenWallet(ctx context.Context, userID int64) (Wallet, error) {
	var w Wallet
	err := c.api.Do(ctx, http.MethodPost, "/wallets/", OpenWallet{UserID: userID}, &w)
	return w, err
}

// Wallet returns the balance of userID (404 APIError when it has none).
func (c *Client) Wallet(ctx context.Context, userID int64) (Wallet, error) {
	var w Wallet
	err := c.api.Do(ctx, http.MethodGet, "/wallets/"+strconv.FormatInt(userID, 10), nil, &w)
	return w, err
}

// History returns up to limit entries of userID older than entry id before
// (0: the newest).
func (c *Client) History(ctx context.Context, userID int64, limit int, before int64) (History, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	path := "/wallets/" + strconv.FormatInt(userID, 10) + "/history"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var h History
	err := c.api.Do(ctx, http.MethodGet, path, nil, &h)
	return h, err
}

// Transaction returns one transaction with its legs.
func (c *Client) Transaction(ctx context.Context, id string) (Transaction, error) {
	var t Transaction
	err := c.api.Do(ctx, http.MethodGet, "/transactions/"+url.PathEscape(id), nil, &t)
	return t, err
}

// TransferFee previews the fee and minimum of a transfer of amount.
func (c *Client) TransferFee(ctx context.Context, amount int64) (FeePreview, error) {
	var f FeePreview
	err := c.api.Do(ctx, http.MethodGet, "/transactions/transfer-fee?amount="+strconv.FormatInt(amount, 10), nil, &f)
	return f, err
}

// Supply returns issued, burned and circulating totals.
func (c *Client) Supply(ctx context.Context) (Supply, error) {
	var s Supply
	err := c.api.Do(ctx, http.MethodGet, "/admin/supply", nil, &s)
	return s, err
}

// Leaderboard returns the people with the highest balances.
func (c *Client) Leaderboard(ctx context.Context, limit int) ([]LeaderboardEntry, error) {
	var out []LeaderboardEntry
	path := "/wallets/leaderboard"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	err := c.api.Do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// TriggerDemurrage charges the current demurrage period (once per period).
func (c *Client) TriggerDemurrage(ctx context.Context) (Demurrage, error) {
	var d Demurrage
	err := c.api.Do(ctx, http.MethodPost, "/admin/demurrage/trigger", struct{}{}, &d)
	return d, err
}

// Consistency runs the ledger self-check.
func (c *Client) Consistency(ctx context.Context) (Consistency, error) {
	var r Consistency
	err := c.api.Do(ctx, http.MethodGet, "/admin/consistency", nil, &r)
	return r, err
}
