package jsonnum_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/somsgo/soms/internal/jsonnum"
)

func TestFloat(t *testing.T) {
	type level int
	type no struct{}
	const (
		N  = jsonnum.Numbers
		S  = jsonnum.Strings
		B  = jsonnum.Bools
		SB = jsonnum.Strings | jsonnum.Bools
	)
	tests := []struct {
		name   string
		v      any
		accept jsonnum.Accept
		want   float64
		ok     bool
	}{
		{"JSON number", 812.5, N, 812.5, true},
		{"negative zero", math.Copysign(0, -1), N, 0, true},
		{"NaN", math.NaN(), SB, 0, false},
		{"+Inf", math.Inf(1), SB, 0, false},
		{"-Inf", math.Inf(-1), SB, 0, false},

		{"numeric string refused", "812", N, 0, false},
		{"numeric string refused with bools", "812", B, 0, false},
		{"numeric string taken", "812", S, 812, true},
		{"white space around it", " 21.5\n", S, 21.5, true},
		{"exponent", "-1.5e3", S, -1500, true},
		{"NaN string", "NaN", S, 0, false},
		{"Inf string", "Inf", S, 0, false},
		{"out of range string", "1e400", S, 0, false},
		{"words", "twelve", SB, 0, false},
		{"empty string", "", S, 0, false},
		{"unit suffix", "812ppm", S, 0, false},

		{"true refused", true, S, 0, false},
		{"true taken", true, B, 1, true},
		{"false taken", false, SB, 0, true},

		{"json.Number", json.Number("42"), N, 42, true},
		{"bad json.Number", json.Number("4x2"), N, 0, false},
		{"raw number", json.RawMessage(" 7.25 "), N, 7.25, true},
		{"raw out of range", json.RawMessage("1e400"), SB, 0, false},
		{"raw string refused", json.RawMessage(`"812"`), B, 0, false},
		{"raw string taken", json.RawMessage(`"812"`), S, 812, true},
		{"raw true refused", json.RawMessage("true"), N, 0, false},
		{"raw true taken", json.RawMessage("true"), B, 1, true},
		{"raw null", json.RawMessage("null"), SB, 0, false},
		{"raw object", json.RawMessage(`{"value": 1}`), SB, 0, false},
		{"raw garbage", json.RawMessage("NaN"), SB, 0, false},
		{"empty raw", json.RawMessage(nil), SB, 0, false},

		{"int", 3, N, 3, true},
		{"int64", int64(-9), N, -9, true},
		{"uint64", uint64(1 << 40), N, 1 << 40, true},
		{"float32", float32(0.5), N, 0.5, true},
		{"named int", level(4), N, 4, true},
		{"float32 NaN", float32(math.NaN()), N, 0, false},

		{"nil", nil, SB, 0, false},
		{"object", map[string]any{"value": 1.0}, SB, 0, false},
		{"array", []any{1.0}, SB, 0, false},
		{"struct", no{}, SB, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := jsonnum.Float(tc.v, tc.accept)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("Float(%#v, %d) = %v, %v; want %v, %v", tc.v, tc.accept, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func BenchmarkFloat(b *testing.B) {
	for _, bc := range []struct {
		name string
		v    any
	}{{"float64", 812.0}, {"string", "812"}, {"bool", true}, {"raw", json.RawMessage("812")}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				jsonnum.Float(bc.v, jsonnum.Strings|jsonnum.Bools)
			}
		})
	}
}
