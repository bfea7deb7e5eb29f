// Package jsonnum reads a number out of a decoded JSON value. It is the one
// numeric coercion of SOMS: telemetry payloads, LLM tool arguments, simulator
// and scenario values all go through Float, and each caller states which
// non-numbers it takes for a number (numeric strings such as "812", booleans)
// instead of each package deciding in its own converter.
//
// Only finite numbers are numbers: NaN and ±Inf are refused however they are
// written ("NaN", "Inf", 1e400), so they never reach a world model, a device
// or a ledger.
package jsonnum

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Accept says which values besides numbers count as numbers. Combine with |.
type Accept uint8

const (
	// Numbers takes JSON numbers only (and Go's numeric types).
	Numbers Accept = 0
	// Strings also takes a string that holds a number, such as "812" or
	// " 21.5 " (surrounding white space is ignored; the rest must parse as
	// strconv.ParseFloat reads a float).
	Strings Accept = 1
	// Bools also takes true as 1 and false as 0.
	Bools Accept = 2
)

// Float returns v as a finite float64 and whether it is one. v is a value as
// encoding/json decodes it into an any (float64, string, bool, nil, maps,
// slices), a json.Number, a json.RawMessage (one JSON value, decoded first),
// or a Go integer or float (values built in Go rather than decoded).
func Float(v any, accept Accept) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64: // what encoding/json decodes: the common case first
		f = x
	case string:
		if accept&Strings == 0 {
			return 0, false
		}
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, false
		}
	case bool:
		if accept&Bools == 0 {
			return 0, false
		}
		if x {
			return 1, true
		}
		return 0, true
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	case json.RawMessage:
		var decoded any
		if json.Unmarshal(x, &decoded) != nil {
			return 0, false
		}
		return Float(decoded, accept)
	default:
		return goNumber(v)
	}
	return finite(f)
}

// goNumber reads Go's integer and float kinds (named ones too).
func goNumber(v any) (float64, bool) {
	rv := reflect.ValueOf(v)
	var f float64
	switch {
	case !rv.IsValid():
		return 0, false
	case rv.CanInt():
		f = float64(rv.Int())
	case rv.CanUint():
		f = float64(rv.Uint())
	case rv.CanFloat():
		f = rv.Float()
	default:
		return 0, false
	}
	return finite(f)
}

func finite(f float64) (float64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}
