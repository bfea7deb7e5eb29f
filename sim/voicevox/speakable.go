package voicevox

import (
	"strings"
	"unicode"
)

// espeak-ng's Japanese voice reads kana only: it spells every kanji as
// "Chinese letter" in English and Latin words letter by letter. speakable
// turns text into SSML espeak-ng reads naturally enough for a simulator:
// each kanji becomes two kana chosen by its code point (a stable babble with
// the rhythm of a real reading), and runs of Latin letters are read by the
// English voice (zone ids such as meeting_room).
func speakable(text string) string {
	var b strings.Builder
	b.WriteString("<speak>")
	inLatin := false
	rs := []rune(text)
	for i, r := range rs {
		latin := isLatin(r) || (inLatin && (r == ' ' || r == '_' || r == '-') && i+1 < len(rs) && isLatin(rs[i+1]))
		if latin != inLatin {
			if latin {
				b.WriteString(` <voice name="en">`)
			} else {
				// Without a space after the switch back, espeak-ng reads
				// the next kana's voicing mark as a letter name.
				b.WriteString("</voice> ")
			}
			inLatin = latin
		}
		switch {
		case unicode.Is(unicode.Han, r):
			b.WriteRune(babble[int(r)%len(babble)])
			b.WriteRune(babble[int(r)/len(babble)%len(babble)])
		case r == '_' || r == '-':
			b.WriteByte(' ')
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	if inLatin {
		b.WriteString("</voice> ")
	}
	b.WriteString("</speak>")
	return b.String()
}

var babble = []rune("かきくけこさしすせそたちつてとなにのはひまみむめもらりるれろわがごじぜだどばぶぼ")

func isLatin(r rune) bool { return r < 0x80 && unicode.IsLetter(r) }
