package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/somsgo/soms/internal/logging"
)

// RequestIDHeader carries a request's ID: taken from the request when a
// caller (a proxy, another service) set a sane one, generated otherwise, and
// always returned in the response so a client can quote it.
const RequestIDHeader = "X-Request-Id"

// maxRequestID bounds an ID taken from a request.
const maxRequestID = 64

// requestID gives every request an ID, returns it as a response header and
// puts it in the context, where the logs (logging.WithRequestID) find it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(logging.WithRequestID(r.Context(), id)))
	})
}

// saneRequestID accepts short IDs of URL-safe characters only: an ID is
// copied into logs, so a caller must not smuggle spaces, quotes or line
// breaks in with it.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
