// Package wallet is the SOMS wallet service: a double-entry ledger of credits
// (milli-units) in the "wallet" schema. People earn task rewards issued by the
// system wallet (user 0), transfer to each other with a burned fee, and lose
// a little to demurrage above an exemption. Every write is idempotent by its
// reference_id and runs in one database transaction; see README.md.
package wallet

import (
	"time"

	"github.com/somsgo/soms/internal/pg"
	"github.com/somsgo/soms/internal/service"
)

// Config is read from the environment; see `soms env wallet`.
type Config struct {
	Common       service.Common
	DB           pg.Config
	Addr         string `env:"WALLET_ADDR" default:":8003" doc:"HTTP listen address (never published on the host)"`
	ServiceToken string `env:"INTERNAL_SERVICE_TOKEN" doc:"shared secret every write and every personal read must carry as X-Service-Token; required; production (SOMS_CLOCK=wall) refuses a placeholder or one under 16 bytes, and checks the password in DATABASE_URL the same way"`

	FeeBPS               int64 `env:"WALLET_TRANSFER_FEE_BPS" default:"500" doc:"transfer fee in basis points of the amount (500 = 5 %), burned; rounded half up"`
	MinFee               int64 `env:"WALLET_TRANSFER_MIN_FEE" default:"1" doc:"smallest transfer fee, milli-units"`
	MinTransfer          int64 `env:"WALLET_MIN_TRANSFER" default:"10000" doc:"absolute floor of a transfer, milli-units (10000 = 10 credits)"`
	MinTransferSupplyBPS int64 `env:"WALLET_MIN_TRANSFER_SUPPLY_BPS" default:"1" doc:"the minimum transfer grows with circulating supply: max(WALLET_MIN_TRANSFER, ceil(circulating × bps / 10000)); 1 = 0.01 %, 0 = floor only"`

	DemurrageBPS      int64         `env:"WALLET_DEMURRAGE_BPS" default:"200" doc:"demurrage per period in basis points (200 = 2 %) of the part of a balance above the exemption, burned"`
	DemurrageExempt   int64         `env:"WALLET_DEMURRAGE_EXEMPT" default:"100000" doc:"balances at or below this (milli-units; 100000 = 100 credits) pay no demurrage"`
	DemurrageInterval time.Duration `env:"WALLET_DEMURRAGE_INTERVAL" default:"24h" doc:"demurrage period (clock time, aligned to the Unix epoch: UTC midnight for 24h); each period is charged once"`
	DemurrageCheck    time.Duration `env:"WALLET_DEMURRAGE_CHECK" default:"1m" doc:"how often the demurrage loop looks for an uncharged period (clock time); 0 disables the loop (POST /admin/demurrage/trigger still works)"`
}

// Rules returns the economy parameters of cfg.
func (c Config) Rules() Rules {
	return Rules{
		FeeBPS: c.FeeBPS, MinFee: c.MinFee, MinTransfer: c.MinTransfer, MinTransferSupplyBPS: c.MinTransferSupplyBPS,
		DemurrageBPS: c.DemurrageBPS, DemurrageExempt: c.DemurrageExempt, DemurrageInterval: c.DemurrageInterval,
	}
}

// DefaultRules are the documented defaults (tests and benchmarks).
func DefaultRules() Rules {
	return Rules{
		FeeBPS: 500, MinFee: 1, MinTransfer: 10_000, MinTransferSupplyBPS: 1,
		DemurrageBPS: 200, DemurrageExempt: 100_000, DemurrageInterval: 24 * time.Hour,
	}
}
