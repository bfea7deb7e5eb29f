package edge

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
)

// The original's weight shelf: 650 g of coffee beans on a 50 g tare,
// consumed at about 2.5 g/s, restocked 160 s after running empty; a barcode
// scan about every 400 s. A layout's ShelfSpec changes all but the barcodes.
const (
	shelfEmptyMargin = 30.0 // g above the tare that count as empty
	shelfBarcodeIn   = 400 * time.Second
)

// OriginalShelf is the original virtual edge's shelf_01.
func OriginalShelf() ShelfSpec {
	return ShelfSpec{StartG: 650, TareG: 50, RateGPerS: 2.5, RestockAfter: Duration(160 * time.Second)}
}

// ShelfSpec is how a weight shelf starts and is used: what it weighs at
// start (the tare is the empty tray), how fast it is consumed (a steady rate,
// plus per person in its zone), and when it is refilled by itself (never
// when zero: a person restocks it through the control API).
type ShelfSpec struct {
	StartG         float64  `json:"start_g"`
	TareG          float64  `json:"tare_g"`
	RateGPerS      float64  `json:"rate_g_per_s,omitempty"`
	PerPersonGPerH float64  `json:"per_person_g_per_h,omitempty"`
	RestockAfter   Duration `json:"restock_after,omitempty"`
}

var shelfBarcodes = []string{"4901234567890", "4902345678901", "4903456789012"}

type shelf struct {
	spec      ShelfSpec
	weight    float64
	offset    float64
	scale     float64
	emptyFor  time.Duration
	sinceScan time.Duration
	scan      bool
}

func newShelf(spec *ShelfSpec) *shelf {
	sp := OriginalShelf()
	if spec != nil {
		sp = *spec
	}
	return &shelf{spec: sp, weight: sp.StartG, scale: 1}
}

// step consumes what dt of use takes (randomly ±50 %, as the original) with
// people in the shelf's zone, and refills an empty shelf when due.
func (s *shelf) step(dt time.Duration, people int, rng *rand.Rand) {
	rate := s.spec.RateGPerS + s.spec.PerPersonGPerH*float64(people)/3600
	if rate > 0 {
		s.weight = max(s.spec.TareG, s.weight-rate*dt.Seconds()*(0.5+rng.Float64()))
	}
	if s.weight <= s.spec.TareG+shelfEmptyMargin && s.spec.RestockAfter > 0 {
		s.emptyFor += dt
		if s.emptyFor >= time.Duration(s.spec.RestockAfter) {
			s.weight, s.emptyFor = s.spec.StartG, 0
		}
	}
	s.sinceScan += dt
	if s.sinceScan >= shelfBarcodeIn {
		s.sinceScan, s.scan = 0, true
	}
}

func (s *shelf) readings(d DeviceSpec, f *Fault, now time.Time, rng *rand.Rand) []message {
	var out []message
	if !f.dropped(rng) {
		out = append(out, value(d, "weight", round(f.measure("weight", s.weight, now, rng), 1)))
	}
	if s.scan {
		s.scan = false
		out = append(out, value(d, "barcode", shelfBarcodes[rng.IntN(len(shelfBarcodes))]))
	}
	return out
}

func (s *shelf) tool(name string, args map[string]any) (any, error) {
	switch name {
	case "get_status":
		return map[string]any{"weight": round(s.weight, 1)}, nil
	case "tare":
		s.offset = s.weight
		return map[string]any{"status": "ok", "offset": round(s.offset, 1), "scale": s.scale}, nil
	case "calibrate":
		k, ok := jsonnum.Float(args["known_weight_g"], argAccept)
		if !ok || k <= 0 {
			return map[string]any{"status": "error", "message": "known_weight_g must be positive"}, nil
		}
		s.scale = (s.weight - s.offset) / k
		return map[string]any{"status": "ok", "scale": s.scale, "offset": s.offset}, nil
	}
	return nil, fmt.Errorf("unknown tool %q for %s", name, KindShelf)
}
