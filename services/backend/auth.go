package backend

import (
	"crypto/subtle"
	"net/http"

	"github.com/somsgo/soms/internal/dashboard"
	"github.com/somsgo/soms/internal/httpx"
)

// requireService admits only callers presenting the internal service token.
func (a *API) requireService(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(dashboard.ServiceTokenHeader)
		switch {
		case got == "":
			httpx.Error(w, http.StatusUnauthorized, "missing "+dashboard.ServiceTokenHeader+" header")
		case subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1:
			httpx.Error(w, http.StatusForbidden, "invalid service token")
		default:
			next.ServeHTTP(w, r)
		}
	})
}
