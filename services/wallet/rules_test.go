package wallet

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestFee(t *testing.T) {
	r := DefaultRules()
	tests := []struct{ amount, fee int64 }{
		{0, 0},
		{1, 1},        // 0.05 → minimum 1, never more than the amount
		{10, 1},       // 0.5 rounds half up
		{29, 1},       // 1.45
		{30, 2},       // 1.5
		{10_000, 500}, // the floor transfer: 10 credits → 0.5 credit
		{10_010, 501}, // 500.5
		{10_009, 500}, // 500.45
		{123_456_789, 6_172_839},
		{MaxAmount, MaxAmount / 20},
	}
	for _, tc := range tests {
		if got := r.Fee(tc.amount); got != tc.fee {
			t.Errorf("Fee(%d) = %d, want %d", tc.amount, got, tc.fee)
		}
	}
	r.FeeBPS, r.MinFee = 0, 0
	if got := r.Fee(10_000); got != 0 {
		t.Errorf("zero-rate fee = %d", got)
	}
}

func TestMinTransferFor(t *testing.T) {
	r := DefaultRules() // floor 10 000, 1 bp of circulating
	tests := []struct{ circulating, min int64 }{
		{-5, 10_000},
		{0, 10_000},
		{100_000_000, 10_000},    // 1 bp of 100 000 credits = 10 credits: still the floor
		{100_000_001, 10_001},    // rounded up
		{1_000_000_000, 100_000}, // 1 000 000 credits → 100 credits
		{MaxAmount * 4, MaxAmount / 10_000},
	}
	for _, tc := range tests {
		if got := r.MinTransferFor(tc.circulating); got != tc.min {
			t.Errorf("MinTransferFor(%d) = %d, want %d", tc.circulating, got, tc.min)
		}
	}
	r.MinTransferSupplyBPS = 0
	if got := r.MinTransferFor(1 << 50); got != 10_000 {
		t.Errorf("without scaling = %d", got)
	}
}

// TestMaxCirculatingFor checks the inverse against MinTransferFor itself:
// an amount is allowed at a supply exactly when the supply is within its limit.
func TestMaxCirculatingFor(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bps := range []int64{0, 1, 7, 100, 9_999, 10_000} {
		r := DefaultRules()
		r.MinTransferSupplyBPS = bps
		amounts := []int64{0, 9_999, 10_000, 10_001, 123_457, 1 << 40, MaxAmount / 10_000, MaxAmount - 1, MaxAmount}
		supplies := []int64{-1, 0, 1, 100_000_000, 100_000_001, 1 << 50, MaxAmount - 1, MaxAmount, MaxAmount + 1, math.MaxInt64}
		for range 200 {
			amounts = append(amounts, rng.Int64N(MaxAmount)+1, rng.Int64N(1<<30))
			supplies = append(supplies, rng.Int64N(math.MaxInt64), rng.Int64N(1<<40))
		}
		for _, a := range amounts {
			limit, ok := r.MaxCirculatingFor(a)
			// Near the limit, where an off-by-one would show.
			near := []int64{limit - 1, limit, limit + 1}
			if limit == math.MaxInt64 {
				near = near[:2]
			}
			for _, c := range append(near, supplies...) {
				want := a >= r.MinTransferFor(c)
				if got := ok && c <= limit; got != want {
					t.Fatalf("bps %d, amount %d, supply %d: allowed by the limit %d (ok %v) = %v, by MinTransferFor(%d) = %v",
						bps, a, c, limit, ok, got, r.MinTransferFor(c), want)
				}
			}
		}
	}
}

func TestDemurrageCharge(t *testing.T) {
	r := DefaultRules() // 2 % above 100 credits
	tests := []struct{ balance, charge int64 }{
		{0, 0},
		{99_999, 0},
		{100_000, 0}, // at the exemption: exempt
		{100_001, 0}, // 0.02 rounds down
		{100_049, 0},
		{100_050, 1},
		{200_000, 2_000},
		{1_100_000, 20_000},
	}
	for _, tc := range tests {
		if got := r.DemurrageCharge(tc.balance); got != tc.charge {
			t.Errorf("DemurrageCharge(%d) = %d, want %d", tc.balance, got, tc.charge)
		}
	}
}

func TestPeriod(t *testing.T) {
	r := DefaultRules()
	tests := []struct {
		at    time.Time
		idx   int64
		start time.Time
	}{
		{time.Unix(0, 0), 0, time.Unix(0, 0).UTC()},
		{time.Date(2024, 10, 4, 23, 59, 59, 0, time.UTC), 20000, time.Date(2024, 10, 4, 0, 0, 0, 0, time.UTC)},
		{time.Date(2024, 10, 5, 0, 0, 0, 0, time.UTC), 20001, time.Date(2024, 10, 5, 0, 0, 0, 0, time.UTC)},
		{time.Date(2024, 10, 5, 9, 0, 0, 0, time.FixedZone("JST", 9*3600)), 20001, time.Date(2024, 10, 5, 0, 0, 0, 0, time.UTC)},
		{time.Unix(-1, 0), -1, time.Unix(-86400, 0).UTC()},
	}
	for _, tc := range tests {
		idx, start := r.Period(tc.at)
		if idx != tc.idx || !start.Equal(tc.start) {
			t.Errorf("Period(%s) = %d %s, want %d %s", tc.at, idx, start, tc.idx, tc.start)
		}
	}
}

func TestRulesValidate(t *testing.T) {
	ok := DefaultRules()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*Rules){
		"fee over 100 %":     func(r *Rules) { r.FeeBPS = 10_001 },
		"negative fee":       func(r *Rules) { r.FeeBPS = -1 },
		"negative min fee":   func(r *Rules) { r.MinFee = -1 },
		"zero min transfer":  func(r *Rules) { r.MinTransfer = 0 },
		"supply share":       func(r *Rules) { r.MinTransferSupplyBPS = 20_000 },
		"demurrage":          func(r *Rules) { r.DemurrageBPS = -5 },
		"exemption":          func(r *Rules) { r.DemurrageExempt = -1 },
		"interval too short": func(r *Rules) { r.DemurrageInterval = time.Millisecond },
	}
	for name, f := range bad {
		r := DefaultRules()
		f(&r)
		if r.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
