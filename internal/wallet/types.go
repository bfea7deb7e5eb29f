// Package wallet is the client of the SOMS wallet service (services/wallet)
// and the request and response types of its HTTP API. Amounts are integers in
// milli-units: 1 credit = 1000.
package wallet

import "time"

// MilliPerCredit converts credits to wallet milli-units.
const MilliPerCredit = 1000

// Special accounts. People have user ids ≥ 1.
const (
	// IssuerID is the system wallet that issues rewards; it may go negative.
	IssuerID int64 = 0
	// BurnID is the account that receives fees and demurrage (taken out of
	// circulation); it only ever grows.
	BurnID int64 = -1
)

// Transaction kinds.
const (
	KindTaskReward = "task_reward"
	KindTransfer   = "p2p_transfer"
	KindDemurrage  = "demurrage"
)

// ServiceTokenHeader authenticates service-to-service writes.
const ServiceTokenHeader = "X-Service-Token"

// IdempotencyKeyHeader optionally makes a transfer idempotent.
const IdempotencyKeyHeader = "Idempotency-Key"

// TaskReward pays a person for a completed task, from the system issuer. It
// is idempotent per TaskID.
type TaskReward struct {
	UserID      int64  `json:"user_id"`
	Amount      int64  `json:"amount"`
	TaskID      int64  `json:"task_id"`
	Description string `json:"description"`
}

// Transfer moves Amount from one person to another; the fee is taken out of
// Amount (the recipient gets Amount − fee) and burned.
type Transfer struct {
	FromUserID  int64  `json:"from_user_id"`
	ToUserID    int64  `json:"to_user_id"`
	Amount      int64  `json:"amount"`
	Description string `json:"description"`
	// IdempotencyKey, when set, makes a retried transfer return the first
	// one instead of paying again (also accepted as the Idempotency-Key header).
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Transaction is one journal entry set: a balanced group of legs.
type Transaction struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Amount      int64     `json:"amount"`
	Fee         int64     `json:"fee"`
	FromUserID  int64     `json:"from_user_id"`
	ToUserID    int64     `json:"to_user_id"`
	ReferenceID string    `json:"reference_id"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	// Duplicate is true when the idempotency key matched an earlier write:
	// nothing was paid this time, the earlier transaction is returned.
	Duplicate bool    `json:"duplicate"`
	Entries   []Entry `json:"entries,omitempty"`
}

// Entry is one leg of a transaction on one account: positive credits,
// negative debits; a transaction's legs sum to zero.
type Entry struct {
	ID            int64     `json:"id"`
	TransactionID string    `json:"transaction_id"`
	UserID        int64     `json:"user_id"`
	Amount        int64     `json:"amount"`
	BalanceAfter  int64     `json:"balance_after"`
	Kind          string    `json:"kind"`
	Description   string    `json:"description"`
	CreatedAt     time.Time `json:"created_at"`
}

// Wallet is an account's balance.
type Wallet struct {
	UserID    int64     `json:"user_id"`
	Balance   int64     `json:"balance"`
	Kind      string    `json:"kind"` // person, issuer or burn
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OpenWallet is the body of POST /wallets/.
type OpenWallet struct {
	UserID int64 `json:"user_id"`
}

// History is a page of an account's ledger entries, newest first.
type History struct {
	UserID  int64   `json:"user_id"`
	Entries []Entry `json:"entries"`
	// NextBefore, when set, fetches the next (older) page as ?before=.
	NextBefore *int64 `json:"next_before"`
}

// FeePreview is GET /transactions/transfer-fee?amount=.
type FeePreview struct {
	Amount       int64   `json:"amount"`
	FeeRate      float64 `json:"fee_rate"`
	FeeAmount    int64   `json:"fee_amount"`
	NetAmount    int64   `json:"net_amount"`
	MinTransfer  int64   `json:"min_transfer"`
	BelowMinimum bool    `json:"below_minimum"`
}

// Supply is GET /admin/supply.
type Supply struct {
	TotalIssued int64 `json:"total_issued"`
	TotalBurned int64 `json:"total_burned"`
	Circulating int64 `json:"circulating"`
	Wallets     int64 `json:"wallets"`
}

// LeaderboardEntry is one row of GET /wallets/leaderboard.
type LeaderboardEntry struct {
	Rank    int   `json:"rank"`
	UserID  int64 `json:"user_id"`
	Balance int64 `json:"balance"`
}

// Demurrage is the outcome of one demurrage period.
type Demurrage struct {
	Period        int64     `json:"period"`
	PeriodStart   time.Time `json:"period_start"`
	TransactionID string    `json:"transaction_id,omitempty"`
	Charged       int       `json:"wallets_charged"`
	Burned        int64     `json:"total_burned"`
	// Duplicate is true when this period was already charged.
	Duplicate bool `json:"duplicate"`
}

// Consistency is the ledger self-check (GET /admin/consistency).
type Consistency struct {
	OK       bool  `json:"ok"`
	Accounts int64 `json:"accounts"`
	// Total is the sum of all balances: zero in a sound ledger.
	Total int64 `json:"total"`
	// Mismatches are accounts whose cached balance differs from the sum of
	// their entries or from their latest balance_after.
	Mismatches []Mismatch `json:"mismatches"`
	// Unbalanced are transactions whose legs do not sum to zero or that
	// have fewer than two legs.
	Unbalanced []string `json:"unbalanced_transactions"`
	// Negative are people with a negative balance.
	Negative []int64 `json:"negative"`
}

// Mismatch is one account failing the consistency check.
type Mismatch struct {
	UserID      int64 `json:"user_id"`
	Balance     int64 `json:"balance"`
	JournalSum  int64 `json:"journal_sum"`
	LatestAfter int64 `json:"latest_balance_after"`
}
