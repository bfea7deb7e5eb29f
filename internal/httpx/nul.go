package httpx

import (
	"bytes"
	"net/http"
	"strings"
)

// PostgreSQL's text types cannot hold U+0000, so a NUL that reached a query
// would fail there as a 500. It is refused at the door instead: in the URL by
// refuseNUL (every route of every server), in JSON bodies by Decode.

const nulMessage = "contains a NUL character (U+0000), which text fields cannot hold"

// refuseNUL answers 400 to a request whose path or query holds a NUL.
func refuseNUL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.ContainsRune(r.URL.Path, 0) {
			Error(w, http.StatusBadRequest, "the path "+nulMessage)
			return
		}
		if strings.Contains(r.URL.RawQuery, "%00") {
			Error(w, http.StatusBadRequest, "the query "+nulMessage)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// jsonHasNUL reports whether a JSON text holds the escape \u0000 inside a
// string (raw control characters are a syntax error already). A backslash
// counts only when it is not itself escaped: "\\u0000" is text, not NUL.
func jsonHasNUL(b []byte) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(`u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		n := 0
		for k := at - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = at + 1
	}
}
