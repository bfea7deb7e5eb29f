package mqttacl

import (
	"errors"
	"fmt"
	"strings"
)

// Device is a device account: the device's id is its MQTT user name.
type Device struct {
	ID       string
	Password string
	// Leaves of a swarm hub: the hub publishes their readings and answers
	// their tool calls under {ID}.{leaf}, so the ACL lists them.
	Leaves []string
}

// MinPasswordLen is the shortest device password accepted (the original
// firmware's is 13 characters).
const MinPasswordLen = 12

// ParseDevices reads the MQTT_DEVICES list: entries id:password or, for a
// swarm hub, id:password:leaf+leaf..., separated by commas or white space.
// The broker's start-up (infra/docker/mosquitto-entrypoint.sh) reads the same
// list with the same rules.
func ParseDevices(s string) ([]Device, error) {
	var out []Device
	seen := map[string]bool{}
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		parts := strings.Split(e, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("MQTT_DEVICES entry %q: want id:password or id:password:leaf+leaf", redact(e))
		}
		d := Device{ID: parts[0], Password: parts[1]}
		if len(parts) == 3 {
			d.Leaves = strings.Split(parts[2], "+")
		}
		if err := d.Validate(); err != nil {
			return nil, err
		}
		if seen[d.ID] {
			return nil, fmt.Errorf("MQTT_DEVICES: device %q listed twice", d.ID)
		}
		seen[d.ID] = true
		out = append(out, d)
	}
	return out, nil
}

// redact hides an entry's password in an error message.
func redact(e string) string {
	id, _, ok := strings.Cut(e, ":")
	if !ok {
		return e
	}
	return id + ":…"
}

// FormatDevices writes devices as an MQTT_DEVICES list.
func FormatDevices(ds []Device) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.ID + ":" + d.Password
		if len(d.Leaves) > 0 {
			parts[i] += ":" + strings.Join(d.Leaves, "+")
		}
	}
	return strings.Join(parts, ",")
}

// ValidID reports whether s can be a device or leaf id: 1-64 letters, digits,
// '_' or '-' (a whole topic level, no wildcard, no dot: hub.leaf is the
// dot's).
func ValidID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Validate checks a device account.
func (d Device) Validate() error {
	switch {
	case !ValidID(d.ID):
		return fmt.Errorf("device id %q: want 1-64 letters, digits, '_' or '-'", d.ID)
	case Reserved(d.ID):
		return fmt.Errorf("device id %q is a service account's name", d.ID)
	case len(d.Password) < MinPasswordLen:
		return fmt.Errorf("device %s: password shorter than %d characters", d.ID, MinPasswordLen)
	case strings.ContainsAny(d.Password, ":, \t\r\n"):
		return errors.New("device " + d.ID + ": password contains ':', ',' or white space")
	}
	seen := map[string]bool{}
	for _, l := range d.Leaves {
		if !ValidID(l) {
			return fmt.Errorf("device %s: leaf %q: want 1-64 letters, digits, '_' or '-'", d.ID, l)
		}
		if seen[l] {
			return fmt.Errorf("device %s: leaf %q listed twice", d.ID, l)
		}
		seen[l] = true
	}
	return nil
}
