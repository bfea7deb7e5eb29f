package backend

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/somsgo/soms/internal/httpx"
	"github.com/somsgo/soms/internal/logging"
	"github.com/somsgo/soms/internal/wallet"
)

// The wallet answers SOMS services only. People read their wallet here, at
// /wallet/... (the dashboard's /api/wallet/... through the frontend), where
// their login is checked as on every other backend route; the request then
// goes on to the wallet with the service token. Only these reads are
// forwarded: writes stay between services on the internal network, and
// nothing else of the wallet (its metrics, health) is reachable this way.

// walletRoutes mounts the forwarded reads with who may make each.
func (a *API) walletRoutes(r chi.Router) {
	r.Route("/wallet", func(r chi.Router) {
		r.With(a.requireAuth, a.ownWallet).Get("/wallets/{user_id}", a.toWallet)
		r.With(a.requireAuth, a.ownWallet).Get("/wallets/{user_id}/history", a.toWallet)
		// The ranking is for members of the office: signed in, not passers-by.
		r.With(a.requireAuth).Get("/wallets/leaderboard", a.toWallet)
		r.Get("/transactions/transfer-fee", a.toWallet)
		r.With(a.requireAdmin).Get("/transactions/{id}", a.toWallet)
		r.With(a.requireAdmin).Get("/admin/supply", a.toWallet)
		r.With(a.requireAdmin).Get("/admin/consistency", a.toWallet)
	})
}

// ownWallet admits a person to their own wallet only; administrators and
// services to any.
func (a *API) ownWallet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		if !p.admin() && chi.URLParam(r, "user_id") != strconv.FormatInt(p.User.ID, 10) {
			httpx.Error(w, http.StatusForbidden, "you may only read your own wallet")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// newWalletFront forwards to the wallet at base with the service token; the
// caller's credentials stay here.
func newWalletFront(base *url.URL, token string, a *API) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			u := pr.Out.URL
			u.Path = strings.TrimPrefix(u.Path, "/wallet")
			u.RawPath = ""
			pr.SetURL(base)
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Del("Cookie")
			pr.Out.Header.Set(wallet.ServiceTokenHeader, token)
			if id := logging.RequestID(pr.In.Context()); id != "" {
				pr.Out.Header.Set(httpx.RequestIDHeader, id)
			}
		},
		ModifyResponse: func(res *http.Response) error {
			res.Header.Del(httpx.RequestIDHeader) // this server answers with its own
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			a.log.WarnContext(r.Context(), "wallet unreachable", "path", r.URL.Path, "err", err)
			httpx.Error(w, http.StatusBadGateway, "the wallet is unreachable")
		},
	}
}

func (a *API) toWallet(w http.ResponseWriter, r *http.Request) {
	if a.walletFront == nil {
		httpx.Error(w, http.StatusServiceUnavailable, "no wallet is configured (WALLET_SERVICE_URL)")
		return
	}
	a.walletFront.ServeHTTP(w, r)
}
