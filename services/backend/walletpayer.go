package backend

import (
	"context"
	"fmt"
	"net/http"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/wallet"
)

// walletPayer pays task rewards through the wallet service, which is
// idempotent per task id: a retry after a lost answer returns the first
// transaction instead of paying again.
type walletPayer struct{ c *wallet.Client }

func newWalletPayer(baseURL, token string) RewardPayer {
	return walletPayer{c: wallet.NewClient(baseURL, token, nil)}
}

func (p walletPayer) PayTaskReward(ctx context.Context, r Reward) (string, error) {
	req := wallet.TaskReward{UserID: r.UserID, Amount: r.Amount, TaskID: r.TaskID, Description: r.Description}
	tx, err := p.c.PayTaskReward(ctx, req)
	if httpx.IsStatus(err, http.StatusNotFound) {
		// The person has no wallet yet: open it (idempotent) and pay again.
		if _, oerr := p.c.OpenWallet(ctx, r.UserID); oerr != nil && !httpx.Permanent(oerr) {
			return "", fmt.Errorf("open wallet of user %d: %w", r.UserID, oerr)
		}
		tx, err = p.c.PayTaskReward(ctx, req)
	}
	if err != nil {
		if httpx.Permanent(err) {
			return "", fmt.Errorf("%w: %w", ErrPaymentRefused, err)
		}
		return "", err
	}
	return tx.ID, nil
}
