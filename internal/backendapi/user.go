package backendapi

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// User is a person who accepts tasks; ID is also their wallet user id.
type User struct {
	ID          int64     `json:"id" db:"id"`
	Username    string    `json:"username" db:"username"`
	DisplayName string    `json:"display_name" db:"display_name"`
	Role        string    `json:"role" db:"role"` // user or admin
	IsActive    bool      `json:"is_active" db:"is_active"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
	UpdatedAt   time.Time `json:"updated_at" db:"updated_at"`
}

// Register is the body of POST /auth/register and (with Role, admin only)
// POST /users/.
type Register struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name,omitempty"`
	Role        string `json:"role,omitempty"`
}

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,40}$`)

// Validate checks the fields and fills defaults.
func (r *Register) Validate() map[string]string {
	bad := map[string]string{}
	r.Username = strings.TrimSpace(r.Username)
	if !usernamePattern.MatchString(r.Username) {
		bad["username"] = "3 to 40 letters, digits, '_', '.' or '-'"
	}
	if n := len(r.Password); n < 8 || n > 72 {
		bad["password"] = "8 to 72 bytes"
	}
	r.DisplayName = strings.TrimSpace(r.DisplayName)
	if len([]rune(r.DisplayName)) > 100 {
		bad["display_name"] = "at most 100 characters"
	}
	switch r.Role {
	case "":
		r.Role = "user"
	case "user", "admin":
	default:
		bad["role"] = "must be user or admin"
	}
	return bad
}

// Login is the body of POST /auth/login.
type Login struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// UpdateUser is the body of PUT /users/{id}; nil fields are left alone. Role
// and IsActive may only be changed by an administrator.
type UpdateUser struct {
	DisplayName *string `json:"display_name,omitempty"`
	Password    *string `json:"password,omitempty"`
	Role        *string `json:"role,omitempty"`
	IsActive    *bool   `json:"is_active,omitempty"`
}

// Validate checks the fields that are present.
func (u *UpdateUser) Validate() map[string]string {
	bad := map[string]string{}
	if u.DisplayName != nil {
		*u.DisplayName = strings.TrimSpace(*u.DisplayName)
		if len([]rune(*u.DisplayName)) > 100 {
			bad["display_name"] = "at most 100 characters"
		}
	}
	if u.Password != nil {
		if n := len(*u.Password); n < 8 || n > 72 {
			bad["password"] = "8 to 72 bytes"
		}
	}
	if u.Role != nil && *u.Role != "user" && *u.Role != "admin" {
		bad["role"] = "must be user or admin"
	}
	return bad
}

// AuthToken is the answer of register and login: a bearer JWT.
type AuthToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	ExpiresAt   time.Time `json:"expires_at"`
	User        User      `json:"user"`
}

// Register creates an account (role user) and returns its token.
func (c *Client) Register(ctx context.Context, in Register) (AuthToken, error) {
	var t AuthToken
	err := c.do(ctx, http.MethodPost, "/auth/register", in, &t)
	return t, err
}

// Login exchanges a username and password for a token.
func (c *Client) Login(ctx context.Context, username, password string) (AuthToken, error) {
	var t AuthToken
	err := c.do(ctx, http.MethodPost, "/auth/login", Login{Username: username, Password: password}, &t)
	return t, err
}

// Me returns the signed-in person (Client.Bearer).
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	err := c.do(ctx, http.MethodGet, "/auth/me", nil, &u)
	return u, err
}

// CreateUser creates an account with a role (administrators and services).
func (c *Client) CreateUser(ctx context.Context, in Register) (User, error) {
	var u User
	err := c.do(ctx, http.MethodPost, "/users/", in, &u)
	return u, err
}

// ListUsers lists accounts (administrators and services).
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	var us []User
	err := c.do(ctx, http.MethodGet, "/users/", nil, &us)
	return us, err
}

// GetUser fetches one account (yourself, or anyone as an administrator).
func (c *Client) GetUser(ctx context.Context, id int64) (User, error) {
	var u User
	err := c.do(ctx, http.MethodGet, "/users/"+strconv.FormatInt(id, 10), nil, &u)
	return u, err
}

// UpdateUser changes an account.
func (c *Client) UpdateUser(ctx context.Context, id int64, in UpdateUser) (User, error) {
	var u User
	err := c.do(ctx, http.MethodPut, "/users/"+strconv.FormatInt(id, 10), in, &u)
	return u, err
}

// DeleteUser deactivates an account.
func (c *Client) DeleteUser(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodDelete, "/users/"+strconv.FormatInt(id, 10), nil, nil)
}

// WithBearer returns a copy of the client that signs in as a person.
func (c *Client) WithBearer(token string) *Client {
	cp := *c
	cp.Bearer = token
	return &cp
}
