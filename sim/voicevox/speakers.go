package voicevox

import "github.com/somsgo/soms/internal/voice"

// EngineVersion is what GET /version answers.
const EngineVersion = "0.14.0-soms-sim"

// style is how a VOICEVOX style id is rendered with espeak-ng.
type style struct {
	id      int
	name    string
	variant string  // espeak-ng voice variant appended as voice+variant
	pitch   int     // added to espeak's pitch (0–99, default 50)
	speed   float64 // multiplies the words per minute
}

type speaker struct {
	name, uuid string
	styles     []style
}

// speakers mirror the ids the original SOMS uses (47 ナースロボ＿タイプＴ
// ノーマル and its 46/48/49 styles), so one VOICEVOX_SPEAKER works against
// either engine, plus a second voice on ids 2 and 3.
var speakers = []speaker{
	{name: "シムロボ（espeak-ng）", uuid: "5f1a0c1e-50c5-4d5e-8b1e-000000000047", styles: []style{
		{id: 46, name: "クール", variant: "f2", pitch: -12, speed: 0.95},
		{id: 47, name: "ノーマル", variant: "f2", pitch: 0, speed: 1},
		{id: 48, name: "楽しい", variant: "f2", pitch: 12, speed: 1.08},
		{id: 49, name: "ささやき", variant: "whisperf", pitch: 0, speed: 0.95},
	}},
	{name: "シム男声（espeak-ng）", uuid: "5f1a0c1e-50c5-4d5e-8b1e-000000000002", styles: []style{
		{id: 2, name: "ノーマル", variant: "m3", pitch: 0, speed: 1},
		{id: 3, name: "元気", variant: "m3", pitch: 10, speed: 1.1},
	}},
}

func findStyle(id int) (style, bool) {
	for _, sp := range speakers {
		for _, st := range sp.styles {
			if st.id == id {
				return st, true
			}
		}
	}
	return style{}, false
}

// speakerList is the GET /speakers body in VOICEVOX's shape.
func speakerList() []voice.Speaker {
	out := make([]voice.Speaker, 0, len(speakers))
	for _, sp := range speakers {
		s := voice.Speaker{
			Name: sp.name, SpeakerUUID: sp.uuid, Version: EngineVersion,
			SupportedFeatures: map[string]any{"permitted_synth_morphing": "SELF_ONLY"},
		}
		for _, st := range sp.styles {
			s.Styles = append(s.Styles, voice.SpeakerStyle{Name: st.name, ID: st.id, Type: "talk"})
		}
		out = append(out, s)
	}
	return out
}
