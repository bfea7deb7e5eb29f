package backend

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/clock"
	"github.com/somsgo/soms/internal/httpx"
)

// Roles of people.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// principal is who is calling: an internal service (X-Service-Token) or a
// person (JWT). The zero value is an anonymous caller.
type principal struct {
	Service bool
	User    *User
}

func (p principal) authenticated() bool { return p.Service || p.User != nil }

// admin reports whether the caller may manage people and act for anyone.
// Internal services are trusted like an administrator.
func (p principal) admin() bool { return p.Service || (p.User != nil && p.User.Role == RoleAdmin) }

// actor names the caller in the audit trail.
func (p principal) actor() string {
	switch {
	case p.User != nil:
		return "user:" + strconv.FormatInt(p.User.ID, 10)
	case p.Service:
		return "service"
	}
	return "anonymous"
}

type principalKey struct{}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// authenticate identifies the caller. Presenting a wrong credential is always
// a 401, even on routes anonymous callers may use, so a client never silently
// acts as someone else than it thinks.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p principal
		if got := r.Header.Get(backendapi.ServiceTokenHeader); got != "" {
			if a.token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
				unauthorized(w, "invalid "+backendapi.ServiceTokenHeader)
				return
			}
			p.Service = true
		}
		if h := r.Header.Get("Authorization"); h != "" {
			raw, found := strings.CutPrefix(h, "Bearer ")
			if !found || strings.TrimSpace(raw) == "" {
				unauthorized(w, "Authorization header must be \"Bearer <token>\"")
				return
			}
			id, err := a.tokens.parse(strings.TrimSpace(raw))
			if err != nil {
				unauthorized(w, "invalid or expired token: "+err.Error())
				return
			}
			u, err := a.users.get(r.Context(), id)
			if errors.Is(err, errNotFound) || (err == nil && !u.IsActive) {
				unauthorized(w, "the token's user no longer exists or is deactivated")
				return
			}
			if err != nil {
				a.log.ErrorContext(r.Context(), "load token user", "id", id, "err", err)
				httpx.Error(w, http.StatusInternalServerError, "could not check the token")
				return
			}
			p.User = &u
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="soms"`)
	httpx.Error(w, http.StatusUnauthorized, msg)
}

// requireService admits only callers presenting the internal service token.
func (a *API) requireService(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		switch {
		case p.Service:
			next.ServeHTTP(w, r)
		case p.User != nil:
			httpx.Error(w, http.StatusForbidden, "this endpoint is for internal services ("+backendapi.ServiceTokenHeader+")")
		default:
			unauthorized(w, "missing "+backendapi.ServiceTokenHeader+" header")
		}
	})
}

// requireAuth admits services and signed-in people.
func (a *API) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !principalFrom(r.Context()).authenticated() {
			unauthorized(w, "sign in (Authorization: Bearer <token>) or present "+backendapi.ServiceTokenHeader)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireUser admits signed-in people only.
func (a *API) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principalFrom(r.Context()).User == nil {
			unauthorized(w, "sign in first: Authorization: Bearer <token> from POST /auth/login")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireAdmin admits administrators and internal services (after requireAuth).
func (a *API) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principalFrom(r.Context())
		switch {
		case !p.authenticated():
			unauthorized(w, "sign in as an administrator")
		case !p.admin():
			httpx.Error(w, http.StatusForbidden, "administrators only")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// tokens issues and checks people's JWTs (HS256), with time from the clock so
// expiry follows simulated time too.
type tokens struct {
	secret []byte
	ttl    time.Duration
	clock  clock.Clock
}

type claims struct {
	Role     string `json:"role"`
	Username string `json:"username"`
	jwt.RegisteredClaims
}

const issuer = "soms-backend"

func (t *tokens) issue(u User) (string, time.Time, error) {
	now := t.clock.Now()
	exp := now.Add(t.ttl)
	c := claims{Role: u.Role, Username: u.Username, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: issuer, Subject: strconv.FormatInt(u.ID, 10),
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// parse verifies a token and returns its user id.
func (t *tokens) parse(s string) (int64, error) {
	var c claims
	_, err := jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.clock.Now),
	)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id < 1 {
		return 0, errors.New("bad subject")
	}
	return id, nil
}
