package worldmodel

import (
	"errors"
	"slices"
	"testing"

	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/telemetry"
	"github.com/somsgo/soms/internal/telemetry/telemetrytest"
	"github.com/somsgo/soms/internal/topic"
)

// TestTelemetryAgreement feeds the shared table (the backend's tests feed the
// same one) through Ingest: a dropped message has the table's reason and
// changes nothing; an accepted one yields the table's readings.
func TestTelemetryAgreement(t *testing.T) {
	for _, c := range telemetrytest.Cases {
		t.Run(c.Name, func(t *testing.T) {
			m := New(clock.NewManual(t0))
			err := m.Ingest(c.Topic, []byte(c.Payload))
			if c.Reason != "" {
				var r *telemetry.Reject
				if !errors.As(err, &r) || r.Reason != c.Reason {
					t.Fatalf("err = %v, want a %s drop", err, c.Reason)
				}
				if len(m.Zones()) != 0 {
					t.Fatal("a dropped message created a zone")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := readingsOf(t, c.Topic, c.Payload); !slices.Equal(got, c.Want) {
				t.Fatalf("readings %v, want %v", got, c.Want)
			}
		})
	}
}

// readingsOf is what the world model's parse step made of an accepted
// message.
func readingsOf(t *testing.T, tp, payload string) []telemetry.Reading {
	t.Helper()
	msg, err := Decode(tp, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Office.Kind == topic.KindOccupancy {
		n, err := parseOccupancy(msg)
		if err != nil {
			t.Fatal(err)
		}
		return []telemetry.Reading{{Channel: "person_count", Value: float64(n)}}
	}
	u, err := parseSensor(msg)
	if err != nil {
		t.Fatal(err)
	}
	return u.readings
}
