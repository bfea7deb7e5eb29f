package wallet

import (
	"fmt"
	"math"
	"time"
)

// MaxAmount bounds any single amount (milli-units) so that fee and supply
// arithmetic can never overflow int64.
const MaxAmount int64 = 1_000_000_000_000_000

// bpsDenominator: rates are integers in basis points (1 bp = 0.01 %).
const bpsDenominator = 10_000

// Rules are the economy's parameters, in milli-units and basis points.
type Rules struct {
	// FeeBPS is the transfer fee (500 = 5 %), burned.
	FeeBPS int64
	// MinFee is the smallest fee of any transfer (milli-units).
	MinFee int64
	// MinTransfer is the absolute floor of a transfer (milli-units).
	MinTransfer int64
	// MinTransferSupplyBPS scales the minimum transfer with circulating
	// supply: the minimum is max(MinTransfer, ceil(circulating × bps / 10 000)).
	MinTransferSupplyBPS int64
	// DemurrageBPS is burned per period from the part of a balance above
	// DemurrageExempt.
	DemurrageBPS    int64
	DemurrageExempt int64
	// DemurrageInterval is the period length (clock time).
	DemurrageInterval time.Duration
}

// mulBPS returns amount × bps / 10 000 rounded as asked, without overflow
// for amount ≤ MaxAmount and bps ≤ 10 000.
func mulBPS(amount, bps int64, roundUp bool) int64 {
	q, r := amount/bpsDenominator, amount%bpsDenominator
	whole := q * bps
	part := r * bps
	if roundUp {
		return whole + (part+bpsDenominator-1)/bpsDenominator
	}
	return whole + part/bpsDenominator
}

// Fee is the fee of a transfer of amount: FeeBPS of it rounded half up, at
// least MinFee, never more than the amount itself.
func (r Rules) Fee(amount int64) int64 {
	if amount <= 0 {
		return 0
	}
	q, rem := amount/bpsDenominator, amount%bpsDenominator
	fee := q*r.FeeBPS + (rem*r.FeeBPS+bpsDenominator/2)/bpsDenominator
	fee = max(fee, r.MinFee)
	return min(fee, amount)
}

// MinTransferFor is the smallest transfer allowed while circulating
// milli-units are in people's wallets.
func (r Rules) MinTransferFor(circulating int64) int64 {
	scaled := int64(0)
	if r.MinTransferSupplyBPS > 0 && circulating > 0 {
		scaled = mulBPS(min(circulating, MaxAmount), r.MinTransferSupplyBPS, true)
	}
	return max(r.MinTransfer, scaled)
}

// MaxCirculatingFor inverts MinTransferFor for one amount: amount is
// allowed exactly while the circulating supply is at most limit (math.MaxInt64:
// at any supply); ok is false when no supply allows it (below the floor).
// The ledger lets the database compare, so a transfer reads the supply and
// writes in one statement.
func (r Rules) MaxCirculatingFor(amount int64) (limit int64, ok bool) {
	if amount < r.MinTransfer {
		return 0, false
	}
	if r.MinTransferSupplyBPS <= 0 {
		return math.MaxInt64, true
	}
	// ceil(c × bps / 10 000) ≤ amount ⟺ c ≤ floor(amount × 10 000 / bps),
	// with c capped at MaxAmount as MinTransferFor caps it.
	q, rem := amount/r.MinTransferSupplyBPS, amount%r.MinTransferSupplyBPS
	if q >= MaxAmount/bpsDenominator {
		return math.MaxInt64, true
	}
	limit = q*bpsDenominator + rem*bpsDenominator/r.MinTransferSupplyBPS
	if limit >= MaxAmount {
		return math.MaxInt64, true
	}
	return limit, true
}

// DemurrageCharge is what one period burns from balance: DemurrageBPS of the
// part above the exemption, rounded down (so a balance never drops below the
// exemption through demurrage, and tiny excesses cost nothing).
func (r Rules) DemurrageCharge(balance int64) int64 {
	if balance <= r.DemurrageExempt || r.DemurrageBPS <= 0 {
		return 0
	}
	return mulBPS(balance-r.DemurrageExempt, r.DemurrageBPS, false)
}

// Period returns the index and start of the demurrage period containing t.
// Periods are aligned to the Unix epoch (UTC midnight for 24 h).
func (r Rules) Period(t time.Time) (int64, time.Time) {
	iv := int64(r.DemurrageInterval)
	ns := t.UnixNano()
	idx := ns / iv
	if ns < 0 && ns%iv != 0 {
		idx--
	}
	return idx, time.Unix(0, idx*iv).UTC()
}

// Validate refuses parameters the ledger cannot honour.
func (r Rules) Validate() error {
	switch {
	case r.FeeBPS < 0 || r.FeeBPS > bpsDenominator:
		return fmt.Errorf("transfer fee %d bp: want 0 to 10000", r.FeeBPS)
	case r.MinFee < 0:
		return fmt.Errorf("minimum fee %d: must not be negative", r.MinFee)
	case r.MinTransfer < 1:
		return fmt.Errorf("minimum transfer %d: want at least 1", r.MinTransfer)
	case r.MinTransferSupplyBPS < 0 || r.MinTransferSupplyBPS > bpsDenominator:
		return fmt.Errorf("minimum transfer supply share %d bp: want 0 to 10000", r.MinTransferSupplyBPS)
	case r.DemurrageBPS < 0 || r.DemurrageBPS > bpsDenominator:
		return fmt.Errorf("demurrage %d bp: want 0 to 10000", r.DemurrageBPS)
	case r.DemurrageExempt < 0:
		return fmt.Errorf("demurrage exemption %d: must not be negative", r.DemurrageExempt)
	case r.DemurrageInterval < time.Second:
		return fmt.Errorf("demurrage interval %s: want at least 1s", r.DemurrageInterval)
	}
	return nil
}
