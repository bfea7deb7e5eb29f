package topic

import "strings"

// Matches reports whether topic name matches subscription filter under the
// MQTT rules: "+" is one level, a trailing "#" is the rest (including none),
// and wildcards at the first level do not match topics starting with "$". It
// allocates nothing, so a client can route every received message with it.
func Matches(filter, name string) bool {
	if strings.HasPrefix(name, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	for {
		f, fRest, fMore := strings.Cut(filter, "/")
		if f == "#" {
			return !fMore // "#" must be the last level
		}
		n, nRest, nMore := strings.Cut(name, "/")
		if f != "+" && f != n {
			return false
		}
		switch {
		case !fMore && !nMore:
			return true
		case !nMore:
			return fRest == "#" // "a/#" matches "a"
		case !fMore:
			return false
		}
		filter, name = fRest, nRest
	}
}
