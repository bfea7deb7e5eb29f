// Package quote renders text that came from devices and people — zone and
// device ids, task titles, report notes, chat questions, device answers —
// into the brain's LLM prompts as data, never as instructions. Control and
// format characters are removed (so no line can be forged), lengths are
// capped, and anything but a plain identifier is written as a JSON string
// literal, whose escaping (quotes, backslashes, <, > and &) keeps it from
// closing the data section or passing for tool-call markup.
package quote

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxID caps identifiers (zone, device, channel and camera ids).
const MaxID = 64

// ellipsis marks a capped text.
const ellipsis = "…"

// Clean returns s without control, format, line/paragraph-separator and
// private-use characters or invalid UTF-8, with every run of white space
// (newlines included) collapsed to one space, trimmed and capped at max runes
// (an ellipsis marks the cut). It reads no more of s than it keeps, so a
// megabyte-long string costs what max does.
func Clean(s string, max int) string {
	if max <= 0 {
		return ""
	}
	var b strings.Builder
	n, space := 0, false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			continue // invalid UTF-8
		case unicode.IsSpace(r):
			space = n > 0
			continue
		case unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs) || r == utf8.RuneError:
			continue
		}
		if n == max {
			b.WriteString(ellipsis)
			return b.String()
		}
		if space {
			if n+1 == max {
				b.WriteString(ellipsis)
				return b.String()
			}
			b.WriteByte(' ')
			n, space = n+1, false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Text is Clean(s, max) as a JSON string literal ("…"): quotes, backslashes
// and the markup characters <, > and & are escaped.
func Text(s string, max int) string {
	b, _ := json.Marshal(Clean(s, max)) // a string always marshals
	return string(b)
}

// ID returns a plain identifier — letters, digits, '_', '-', '.' and ':', at
// most MaxID of them — as it is, so ids read as in the office's topics, and
// anything else quoted as Text(s, MaxID). A plain identifier can name things
// but cannot forge a line, a section or markup.
func ID(s string) string {
	if IsPlainID(s) {
		return s
	}
	return Text(s, MaxID)
}

// IsPlainID reports whether ID writes s unquoted.
func IsPlainID(s string) bool {
	if s == "" || len(s) > MaxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// Lines quotes a block rendered by someone else line by line: at most
// maxLines lines, each as Text(line, maxRunes), one per line and prefixed
// "- ". It is for text whose pieces cannot be told apart any more (a
// device id with a newline in it reads as two quoted lines, both data).
func Lines(block string, maxLines, maxRunes int) string {
	var b strings.Builder
	n := 0
	for line := range strings.SplitSeq(block, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
		if Clean(line, 1) == "" {
			continue
		}
		if n == maxLines {
			b.WriteString("- …\n")
			break
		}
		b.WriteString("- ")
		b.WriteString(Text(line, maxRunes))
		b.WriteByte('\n')
		n++
	}
	return b.String()
}
