package registry

import (
	"fmt"
	"slices"
	"strings"
)

var icon = map[State]string{Online: "🟢", Stale: "🟡", Offline: "🔴", Sleeping: "💤"}

// Summary is the device-network block of the LLM prompt: trusted devices only,
// counts per state, low batteries and up to five offline devices. It is empty
// when no device is trusted yet.
func (r *Registry) Summary() string {
	now := r.clock.Now()
	var trusted []Status
	for _, s := range r.List() {
		if s.Trusted {
			trusted = append(trusted, s)
		}
	}
	if len(trusted) == 0 {
		return ""
	}
	counts := map[State]int{}
	for _, s := range trusted {
		counts[s.State]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "デバイス %d台: オンライン %d, 応答遅延 %d, オフライン %d, スリープ %d\n",
		len(trusted), counts[Online], counts[Stale], counts[Offline], counts[Sleeping])
	for _, s := range trusted {
		if s.BatteryPct != nil && *s.BatteryPct < LowBattery {
			fmt.Fprintf(&b, "- 電池残量低下: %s (%d%%)\n", s.DeviceID, *s.BatteryPct)
		}
	}
	n := 0
	for _, s := range trusted {
		if s.State == Offline && n < 5 {
			fmt.Fprintf(&b, "- オフライン: %s（%d分前から応答なし）\n", s.DeviceID, int(now.Sub(s.LastSeen).Minutes()))
			n++
		}
	}
	return b.String()
}

// Tree renders trusted devices as a tree (get_device_status); zone filters by
// device-id prefix or zone.
func (r *Registry) Tree(zone string) string {
	all := r.List()
	children := map[string][]Status{}
	var roots []Status
	for _, s := range all {
		if !s.Trusted {
			continue
		}
		if zone != "" && s.Zone != zone && !strings.HasPrefix(s.DeviceID, zone) {
			continue
		}
		if s.ParentID != "" {
			children[s.ParentID] = append(children[s.ParentID], s)
		} else {
			roots = append(roots, s)
		}
	}
	if len(roots) == 0 && len(children) == 0 {
		return "信頼済みのデバイスはありません"
	}
	var b strings.Builder
	line := func(s Status, indent string) {
		fmt.Fprintf(&b, "%s%s %s (%s) %s", indent, icon[s.State], s.DeviceID, s.DeviceType, s.State)
		if s.BatteryPct != nil {
			fmt.Fprintf(&b, " 電池%d%%", *s.BatteryPct)
		}
		if s.PowerMode != "" && s.PowerMode != "ALWAYS_ON" {
			fmt.Fprintf(&b, " [%s]", s.PowerMode)
		}
		if s.QueueStatus != nil && s.QueueStatus.QueuedCount > 0 {
			fmt.Fprintf(&b, " 待機コマンド%d件", s.QueueStatus.QueuedCount)
		}
		b.WriteString("\n")
	}
	slices.SortFunc(roots, func(a, b Status) int { return strings.Compare(a.DeviceID, b.DeviceID) })
	for _, s := range roots {
		line(s, "")
		for _, c := range children[s.DeviceID] {
			line(c, "  └ ")
		}
		delete(children, s.DeviceID)
	}
	// Children whose parent is not (yet) trusted are listed flat.
	for _, cs := range children {
		for _, c := range cs {
			line(c, "")
		}
	}
	return b.String()
}
