package eventstore

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

// nulEscape is a JSON \u0000 escape (not an escaped backslash before "u0000").
var nulEscape = regexp.MustCompile(`(^|[^\\])(\\\\)*\\u0000`)

// FuzzEncodeRaw: whatever a device sends, the row handed to PostgreSQL is
// JSON without NUL, at most MaxPayload bytes, with NUL-free text columns.
func FuzzEncodeRaw(f *testing.F) {
	for _, s := range []string{`{"value":1}`, `{"note":"a\u0000b"}`, `{"\u0000":["\u0000",{"x\u0000":1}]}`, `{"s":"\\u0000"}`, `{"s":"\\\u0000"}`} {
		f.Add("main", "env_01", []byte(s))
	}
	f.Fuzz(func(t *testing.T, zone, device string, payload []byte) {
		var data map[string]any
		if json.Unmarshal(payload, &data) != nil {
			return
		}
		row, _ := encodeRaw(Raw{At: time.Unix(0, 0), Zone: zone, Type: "sensor_reading", Device: device, Data: data})
		if !json.Valid(row.data) || len(row.data) > MaxPayload || nulEscape.Match(row.data) || bytes.IndexByte(row.data, 0) >= 0 {
			t.Fatalf("data %q", row.data)
		}
		for _, s := range []string{row.zone, row.typ, row.device} {
			if bytes.IndexByte([]byte(s), 0) >= 0 {
				t.Fatalf("text %q", s)
			}
		}
	})
}
