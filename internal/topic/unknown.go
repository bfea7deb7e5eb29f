package topic

import "strings"

// OriginalRoots are the topic roots the original SOMS's demo devices publish
// under outside office/ and mcp/ (its hydroponics and aquarium nodes:
// hydro/{name}/status, aqua/{name}/status). The broker lets devices use them;
// the services subscribe to them so that such traffic is counted and logged
// (Unknown) instead of vanishing unseen.
var OriginalRoots = []string{"hydro", "aqua"}

// systemZones are office/{x}/... roots that name no zone: perception's and
// the shopping list's system topics (office/tracking/persons,
// office/perception/discovery, office/shopping/added).
var systemZones = map[string]bool{"tracking": true, "perception": true, "shopping": true}

// Unknown labels a topic no part of SOMS interprets, for a metric and a log
// line: "office" for an office topic of an unknown kind, the root for an
// original device root ("hydro", "aqua"), "other" for anything else outside
// office/, mcp/ and soms/. It returns "" for a topic SOMS knows, and for a
// malformed office topic (which the parsers reject and count themselves).
// The labels are a fixed set, so a device cannot grow a metric's series.
func Unknown(t string) string {
	root, _, _ := strings.Cut(t, "/")
	switch root {
	case "office":
		o, ok := ParseOffice(t)
		if !ok || o.ZoneScoped || systemZones[o.Zone] {
			return ""
		}
		return "office"
	case "mcp", "soms":
		return ""
	}
	for _, r := range OriginalRoots {
		if root == r {
			return r
		}
	}
	return "other"
}
