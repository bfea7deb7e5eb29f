package eventstore

import (
	"bytes"
	"encoding/json"
	"strings"
)

// PostgreSQL refuses NUL in text and in jsonb strings (\u0000); one such
// value from a device must not fail the batch it is written in. NUL is
// replaced by U+FFFD, as encoding/json replaces invalid UTF-8.
const nulReplacement = "\uFFFD"

// cleanText replaces NUL in s.
func cleanText(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", nulReplacement)
}

// cleanJSON encodes v as JSON without NUL in any key or string.
func cleanJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || !bytes.Contains(b, []byte(`\u0000`)) {
		return b, err
	}
	// Rare: re-encode from the decoded form with every string cleaned (a
	// literal backslash followed by "u0000" also lands here, harmlessly).
	var decoded any
	if err := json.Unmarshal(b, &decoded); err != nil {
		return nil, err
	}
	return json.Marshal(cleanValue(decoded))
}

// cleanValue cleans every key and string of a decoded JSON value.
func cleanValue(v any) any {
	switch x := v.(type) {
	case string:
		return cleanText(x)
	case []any:
		for i := range x {
			x[i] = cleanValue(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[cleanText(k)] = cleanValue(e)
		}
		return out
	}
	return v
}
