package voicevox

import (
	"strings"
	"unicode"

	"github.com/somsgo/soms/internal/voice"
)

// Mora lengths and pitch of the simplified analysis; they only need to be
// plausible numbers, espeak-ng does the real prosody.
const (
	moraLength  = 0.12
	pauseLength = 0.3
	moraPitch   = 5.6
)

// newQuery analyses text into a VOICEVOX-shaped AudioQuery. Accent phrases are
// split at punctuation and spaces, one mora per character (small kana join
// the one before), and the separators become pause moras, so joining every
// mora's text gives the text back: /synthesis speaks from the accent phrases
// as the real engine does. Kana holds the text too (the real engine puts its
// AquesTalk-style reading there).
func newQuery(text string) voice.AudioQuery {
	q := voice.AudioQuery{
		AccentPhrases: []voice.AccentPhrase{},
		SpeedScale:    1, PitchScale: 0, IntonationScale: 1, VolumeScale: 1,
		PrePhonemeLength: 0.1, PostPhonemeLength: 0.1, PauseLengthScale: 1,
		OutputSamplingRate: 24000, OutputStereo: false, Kana: text,
	}
	var cur []voice.Mora
	flush := func(pause *voice.Mora) {
		if len(cur) == 0 && pause == nil {
			return
		}
		if len(cur) == 0 && len(q.AccentPhrases) > 0 && q.AccentPhrases[len(q.AccentPhrases)-1].PauseMora != nil {
			// consecutive separators: extend the previous pause
			prev := q.AccentPhrases[len(q.AccentPhrases)-1].PauseMora
			prev.Text += pause.Text
			prev.VowelLength += pause.VowelLength
			return
		}
		ap := voice.AccentPhrase{Moras: cur, Accent: min(1, len(cur)), PauseMora: pause}
		if ap.Moras == nil {
			ap.Moras = []voice.Mora{}
		}
		if pause != nil {
			ap.IsInterrogative = strings.ContainsAny(pause.Text, "?？")
		}
		q.AccentPhrases = append(q.AccentPhrases, ap)
		cur = nil
	}
	for _, r := range text {
		switch {
		case isSeparator(r):
			flush(&voice.Mora{Text: string(r), Vowel: "pau", VowelLength: pauseLength})
		case isSmallKana(r) && len(cur) > 0:
			cur[len(cur)-1].Text += string(r)
		default:
			cur = append(cur, mora(r))
		}
	}
	flush(nil)
	return q
}

func mora(r rune) voice.Mora {
	m := voice.Mora{Text: string(r), Vowel: "a", VowelLength: moraLength, Pitch: moraPitch}
	switch r {
	case 'ん', 'ン':
		m.Vowel = "N"
	case 'っ', 'ッ':
		m.Vowel, m.Pitch = "cl", 0
	}
	return m
}

// queryText is what a query asks to be spoken: every mora's text in order.
// A query without accent phrases falls back to its kana.
func queryText(q voice.AudioQuery) string {
	var b strings.Builder
	for _, ap := range q.AccentPhrases {
		for _, m := range ap.Moras {
			b.WriteString(m.Text)
		}
		if ap.PauseMora != nil {
			b.WriteString(ap.PauseMora.Text)
		}
	}
	if b.Len() == 0 && len(q.AccentPhrases) == 0 {
		return q.Kana
	}
	return b.String()
}

func isSeparator(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune("、。，．,.!?！？…・「」『』（）()", r)
}

func isSmallKana(r rune) bool {
	return strings.ContainsRune("ゃゅょぁぃぅぇぉゎャュョァィゥェォヮ", r)
}
