// Package scene is the simulator's model of who is where in the office. One
// scene per zone is the single source of truth for occupancy: the virtual edge
// owns it (its PIR and CO2 physics follow the people in it) and publishes it as
// a retained MQTT message, and the virtual camera renders exactly those people,
// so sensors and cameras always agree.
package scene

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Topic carries one zone's scene, retained: soms/sim/scene/{zone}.
func Topic(zone string) string { return "soms/sim/scene/" + zone }

// TopicAll subscribes to every zone's scene.
const TopicAll = "soms/sim/scene/+"

// ZoneFromTopic returns the zone of a scene topic.
func ZoneFromTopic(t string) (string, bool) {
	z, ok := strings.CutPrefix(t, "soms/sim/scene/")
	if !ok || z == "" || strings.Contains(z, "/") {
		return "", false
	}
	return z, true
}

// Posture of a simulated person.
type Posture string

// Postures the camera can render and perception can tell apart.
const (
	Standing Posture = "standing"
	Sitting  Posture = "sitting"
	Walking  Posture = "walking"
	Fallen   Posture = "fallen"
)

// Valid reports whether p is a known posture.
func (p Posture) Valid() bool {
	switch p {
	case Standing, Sitting, Walking, Fallen:
		return true
	}
	return false
}

// Person is one figure in a zone. X and Y are floor positions normalised to
// 0..1 across the zone's camera view (0,0 top-left); Motion is 0 (still) to 1
// (moving briskly) and drives how much the figure moves between frames.
type Person struct {
	ID      string  `json:"id"`
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	Posture Posture `json:"posture"`
	Motion  float64 `json:"motion"`
}

// Item is a piece of furniture drawn in the camera view (desk, table, chair,
// whiteboard, door), in the same normalised coordinates.
type Item struct {
	Kind string  `json:"kind"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	W    float64 `json:"w"`
	H    float64 `json:"h"`
}

// Zone is the scene of one zone. Seq increases with every change so a
// subscriber can ignore stale retained copies.
type Zone struct {
	Zone      string   `json:"zone"`
	Seq       uint64   `json:"seq"`
	People    []Person `json:"people"`
	Furniture []Item   `json:"furniture,omitempty"`
}

// Count is the number of people in the zone, what occupancy sensing reports.
func (z Zone) Count() int { return len(z.People) }

// Validate checks a scene before it is published or applied.
func (z Zone) Validate() error {
	var errs []error
	if z.Zone == "" {
		errs = append(errs, errors.New("zone is required"))
	}
	seen := map[string]bool{}
	for i, p := range z.People {
		switch {
		case p.ID == "":
			errs = append(errs, fmt.Errorf("people[%d]: id is required", i))
		case seen[p.ID]:
			errs = append(errs, fmt.Errorf("people[%d]: duplicate id %q", i, p.ID))
		}
		seen[p.ID] = true
		if !p.Posture.Valid() {
			errs = append(errs, fmt.Errorf("people[%d]: posture %q is not one of standing, sitting, walking, fallen", i, p.Posture))
		}
		if p.X < 0 || p.X > 1 || p.Y < 0 || p.Y > 1 {
			errs = append(errs, fmt.Errorf("people[%d]: position (%g,%g) outside 0..1", i, p.X, p.Y))
		}
		if p.Motion < 0 || p.Motion > 1 {
			errs = append(errs, fmt.Errorf("people[%d]: motion %g outside 0..1", i, p.Motion))
		}
	}
	return errors.Join(errs...)
}

// Decode parses and validates a scene payload.
func Decode(b []byte) (Zone, error) {
	var z Zone
	if err := json.Unmarshal(b, &z); err != nil {
		return Zone{}, fmt.Errorf("scene: %w", err)
	}
	if err := z.Validate(); err != nil {
		return Zone{}, fmt.Errorf("scene %q: %w", z.Zone, err)
	}
	return z, nil
}
