package edge

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/somsgo/soms/internal/jsonnum"
)

// The original's weight shelf: 650 g of coffee beans on a 50 g tare,
// consumed at about 2.5 g/s, restocked 160 s after running empty; a barcode
// scan about every 400 s.
const (
	shelfFull       = 650.0
	shelfTare       = 50.0
	shelfRate       = 2.5 // g/s
	shelfEmptyBelow = 80.0
	shelfRestockIn  = 160 * time.Second
	shelfBarcodeIn  = 400 * time.Second
)

var shelfBarcodes = []string{"4901234567890", "4902345678901", "4903456789012"}

type shelf struct {
	weight    float64
	offset    float64
	scale     float64
	emptyFor  time.Duration
	sinceScan time.Duration
	scan      bool
}

func newShelf() *shelf { return &shelf{weight: shelfFull, scale: 1} }

func (s *shelf) step(dt time.Duration, rng *rand.Rand) {
	s.weight = max(shelfTare, s.weight-shelfRate*dt.Seconds()*(0.5+rng.Float64()))
	if s.weight <= shelfEmptyBelow {
		s.emptyFor += dt
		if s.emptyFor >= shelfRestockIn {
			s.weight, s.emptyFor = shelfFull, 0
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
