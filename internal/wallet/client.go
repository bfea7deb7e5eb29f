package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the wallet service (WALLET_SERVICE_URL, e.g.
// http://wallet:8003). It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the wallet at baseURL that authenticates its
// writes with token (INTERNAL_SERVICE_TOKEN). hc nil uses a client with a
// 10 s timeout.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: hc}
}

// APIError is a 4xx or 5xx answer from the wallet.
type APIError struct {
	Status  int
	Message string
	// Fields names invalid request fields (422).
	Fields map[string]string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wallet: HTTP %d: %s", e.Status, e.Message)
}

// IsStatus reports whether err is an *APIError with the given status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// Permanent reports whether err is an answer that will not change on retry
// (a 4xx other than 408 and 429). Network errors and 5xx are worth retrying.
func Permanent(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 &&
		ae.Status != http.StatusRequestTimeout && ae.Status != http.StatusTooManyRequests
}

// PayTaskReward pays r from the system issuer. It is idempotent per task: a
// repeat for the same task returns the first transaction with Duplicate set;
// a repeat with a different user or amount is a 409 APIError.
func (c *Client) PayTaskReward(ctx context.Context, r TaskReward) (Transaction, error) {
	var t Transaction
	err := c.do(ctx, http.MethodPost, "/transactions/task-reward", r, &t, nil)
	return t, err
}

// Transfer moves t.Amount between two people; the fee is burned.
func (c *Client) Transfer(ctx context.Context, t Transfer) (Transaction, error) {
	var out Transaction
	var h http.Header
	if t.IdempotencyKey != "" {
		h = http.Header{IdempotencyKeyHeader: {t.IdempotencyKey}}
	}
	err := c.do(ctx, http.MethodPost, "/transactions/p2p-transfer", t, &out, h)
	return out, err
}

// OpenWallet creates the wallet of userID, or returns it if it exists.
func (c *Client) OpenWallet(ctx context.Context, userID int64) (Wallet, error) {
	var w Wallet
	err := c.do(ctx, http.MethodPost, "/wallets/", OpenWallet{UserID: userID}, &w, nil)
	return w, err
}

// Wallet returns the balance of userID (404 APIError when it has none).
func (c *Client) Wallet(ctx context.Context, userID int64) (Wallet, error) {
	var w Wallet
	err := c.do(ctx, http.MethodGet, "/wallets/"+strconv.FormatInt(userID, 10), nil, &w, nil)
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
	err := c.do(ctx, http.MethodGet, path, nil, &h, nil)
	return h, err
}

// Transaction returns one transaction with its legs.
func (c *Client) Transaction(ctx context.Context, id string) (Transaction, error) {
	var t Transaction
	err := c.do(ctx, http.MethodGet, "/transactions/"+url.PathEscape(id), nil, &t, nil)
	return t, err
}

// TransferFee previews the fee and minimum of a transfer of amount.
func (c *Client) TransferFee(ctx context.Context, amount int64) (FeePreview, error) {
	var f FeePreview
	err := c.do(ctx, http.MethodGet, "/transactions/transfer-fee?amount="+strconv.FormatInt(amount, 10), nil, &f, nil)
	return f, err
}

// Supply returns issued, burned and circulating totals.
func (c *Client) Supply(ctx context.Context) (Supply, error) {
	var s Supply
	err := c.do(ctx, http.MethodGet, "/admin/supply", nil, &s, nil)
	return s, err
}

// Leaderboard returns the people with the highest balances.
func (c *Client) Leaderboard(ctx context.Context, limit int) ([]LeaderboardEntry, error) {
	var out []LeaderboardEntry
	path := "/wallets/leaderboard"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	err := c.do(ctx, http.MethodGet, path, nil, &out, nil)
	return out, err
}

// TriggerDemurrage charges the current demurrage period (once per period).
func (c *Client) TriggerDemurrage(ctx context.Context) (Demurrage, error) {
	var d Demurrage
	err := c.do(ctx, http.MethodPost, "/admin/demurrage/trigger", struct{}{}, &d, nil)
	return d, err
}

// Consistency runs the ledger self-check.
func (c *Client) Consistency(ctx context.Context) (Consistency, error) {
	var r Consistency
	err := c.do(ctx, http.MethodGet, "/admin/consistency", nil, &r, nil)
	return r, err
}

func (c *Client) do(ctx context.Context, method, path string, in, out any, h http.Header) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("wallet: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set(ServiceTokenHeader, c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("wallet: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("wallet: %s %s: reading answer: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		var eb struct {
			Error  string            `json:"error"`
			Fields map[string]string `json:"fields"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return &APIError{Status: resp.StatusCode, Message: msg, Fields: eb.Fields}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("wallet: %s %s: answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}
