package backend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/somsgo/soms/internal/backendapi"
	"github.com/somsgo/soms/internal/httpx"
)

// User is a person account.
type User = backendapi.User

var errDuplicate = errors.New("already exists")

const userColumns = `id, username, display_name, role, is_active, created_at, updated_at`

// userStore keeps accounts in dashboard.users with bcrypt password hashes.
type userStore struct {
	pool *pgxpool.Pool
	cost int
}

func (s *userStore) create(ctx context.Context, in backendapi.Register, now time.Time) (User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), s.cost)
	if err != nil {
		return User{}, fmt.Errorf("hash password: %w", err)
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO dashboard.users (username, display_name, password_hash, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+userColumns, in.Username, in.DisplayName, string(hash), in.Role, now)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return User{}, errDuplicate
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func (s *userStore) get(ctx context.Context, id int64) (User, error) {
	return s.one(ctx, `SELECT `+userColumns+` FROM dashboard.users WHERE id = $1`, id)
}

func (s *userStore) one(ctx context.Context, sql string, args ...any) (User, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return User{}, fmt.Errorf("read user: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("read user: %w", err)
	}
	return u, nil
}

// check returns the active user with these credentials, or errNotFound.
func (s *userStore) check(ctx context.Context, username, password string) (User, error) {
	var (
		id   int64
		hash string
	)
	err := s.pool.QueryRow(ctx, `SELECT id, password_hash FROM dashboard.users WHERE username = $1 AND is_active`, username).Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the same time as a real check so timing does not reveal names.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return User{}, errNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("check credentials: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, errNotFound
	}
	return s.get(ctx, id)
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), bcrypt.MinCost)

func (s *userStore) list(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM dashboard.users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	us, err := pgx.CollectRows(rows, pgx.RowToStructByName[User])
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	if us == nil {
		us = []User{}
	}
	return us, nil
}

func (s *userStore) update(ctx context.Context, id int64, in backendapi.UpdateUser, now time.Time) (User, error) {
	var hash *string
	if in.Password != nil {
		h, err := bcrypt.GenerateFromPassword([]byte(*in.Password), s.cost)
		if err != nil {
			return User{}, fmt.Errorf("hash password: %w", err)
		}
		hs := string(h)
		hash = &hs
	}
	return s.one(ctx, `UPDATE dashboard.users SET
		display_name = COALESCE($2, display_name), password_hash = COALESCE($3, password_hash),
		role = COALESCE($4, role), is_active = COALESCE($5, is_active), updated_at = $6
		WHERE id = $1 RETURNING `+userColumns, id, in.DisplayName, hash, in.Role, in.IsActive, now)
}

// ensureAdmin creates (or resets the password and role of) the bootstrap
// administrator named by BACKEND_ADMIN_USER.
func (s *userStore) ensureAdmin(ctx context.Context, username, password string, now time.Time) error {
	in := backendapi.Register{Username: username, Password: password, Role: RoleAdmin}
	if bad := in.Validate(); len(bad) > 0 {
		return fmt.Errorf("BACKEND_ADMIN_USER/BACKEND_ADMIN_PASSWORD: %v", bad)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO dashboard.users (username, password_hash, role, created_at, updated_at)
		VALUES ($1, $2, 'admin', $3, $3)
		ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = 'admin', is_active = true, updated_at = $3`,
		username, string(hash), now)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	return nil
}

func (a *API) register(w http.ResponseWriter, r *http.Request) {
	var in backendapi.Register
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if in.Role != "" && in.Role != RoleUser {
		httpx.Invalid(w, map[string]string{"role": "self-registration creates users; an administrator grants admin"})
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	u, ok := a.createUserOr(w, r, in)
	if !ok {
		return
	}
	a.writeToken(w, http.StatusCreated, u)
}

func (a *API) createUserOr(w http.ResponseWriter, r *http.Request, in backendapi.Register) (User, bool) {
	u, err := a.users.create(r.Context(), in, a.clock.Now())
	if errors.Is(err, errDuplicate) {
		httpx.Error(w, http.StatusConflict, "username "+in.Username+" is taken")
		return User{}, false
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "create user", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not create the user")
		return User{}, false
	}
	a.log.InfoContext(r.Context(), "user created", "id", u.ID, "username", u.Username, "role", u.Role)
	return u, true
}

func (a *API) writeToken(w http.ResponseWriter, status int, u User) {
	tok, exp, err := a.tokens.issue(u)
	if err != nil {
		a.log.Error("issue token", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not issue a token")
		return
	}
	httpx.WriteJSON(w, status, backendapi.AuthToken{AccessToken: tok, TokenType: "bearer", ExpiresAt: exp, User: u})
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var in backendapi.Login
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if in.Username == "" || in.Password == "" {
		httpx.Invalid(w, map[string]string{"username": "required", "password": "required"})
		return
	}
	u, err := a.users.check(r.Context(), in.Username, in.Password)
	if errors.Is(err, errNotFound) {
		unauthorized(w, "wrong username or password")
		return
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "login", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not check the credentials")
		return
	}
	a.writeToken(w, http.StatusOK, u)
}

func (a *API) me(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, principalFrom(r.Context()).User)
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.users.list(r.Context())
	if err != nil {
		a.log.ErrorContext(r.Context(), "list users", "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not list users")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, us)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var in backendapi.Register
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	if u, ok := a.createUserOr(w, r, in); ok {
		httpx.WriteJSON(w, http.StatusCreated, u)
	}
}

// userID parses {id} and checks the caller may see or change that account.
func (a *API) userID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		httpx.Error(w, http.StatusBadRequest, "user id must be a positive integer")
		return 0, false
	}
	if p := principalFrom(r.Context()); !p.admin() && p.User.ID != id {
		httpx.Error(w, http.StatusForbidden, "you may only see and change your own account")
		return 0, false
	}
	return id, true
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	id, ok := a.userID(w, r)
	if !ok {
		return
	}
	u, err := a.users.get(r.Context(), id)
	a.writeUser(w, id, u, err)
}

func (a *API) writeUser(w http.ResponseWriter, id int64, u User, err error) {
	switch {
	case errors.Is(err, errNotFound):
		httpx.Error(w, http.StatusNotFound, "user "+strconv.FormatInt(id, 10)+" not found")
	case err != nil:
		a.log.Error("user", "id", id, "err", err)
		httpx.Error(w, http.StatusInternalServerError, "could not read or write the user")
	default:
		httpx.WriteJSON(w, http.StatusOK, u)
	}
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	id, ok := a.userID(w, r)
	if !ok {
		return
	}
	var in backendapi.UpdateUser
	if !httpx.DecodeOrError(w, r, &in) {
		return
	}
	if bad := in.Validate(); len(bad) > 0 {
		httpx.Invalid(w, bad)
		return
	}
	if (in.Role != nil || in.IsActive != nil) && !principalFrom(r.Context()).admin() {
		httpx.Error(w, http.StatusForbidden, "only an administrator changes roles or deactivates accounts")
		return
	}
	u, err := a.users.update(r.Context(), id, in, a.clock.Now())
	a.writeUser(w, id, u, err)
}

// deleteUser deactivates the account: its tasks and payments keep pointing at it.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, ok := a.userID(w, r)
	if !ok {
		return
	}
	inactive := false
	_, err := a.users.update(r.Context(), id, backendapi.UpdateUser{IsActive: &inactive}, a.clock.Now())
	if err != nil {
		a.writeUser(w, id, User{}, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
