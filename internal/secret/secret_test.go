package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	good := "3f6c1b0a9e8d7c6b5a4f3e2d1c0b9a88"
	for _, tc := range []struct {
		value, want string
	}{
		{"", "INTERNAL_SERVICE_TOKEN is not set"},
		{"change-me-service-token", "placeholder"},
		{"change-me-jwt-secret-at-least-32-bytes-long", "placeholder"},
		{"changemebackend", "placeholder"},
		{"Change_Me_Please_0123456789abcdef", "placeholder"},
		{"s3cr", "4 bytes, too short: at least 16"},
		{"0123456789abcde", "15 bytes"},
		{good, ""},
		{"0123456789abcdef", ""},
	} {
		err := Check("INTERNAL_SERVICE_TOKEN", tc.value, MinLength)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.value, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "INTERNAL_SERVICE_TOKEN")):
			t.Errorf("%q: %v, want an error naming the variable and %q", tc.value, err, tc.want)
		}
		if err != nil && tc.value != "" && strings.Contains(err.Error(), tc.value) {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
}

func TestCheckURLPassword(t *testing.T) {
	for _, tc := range []struct {
		url, want string
	}{
		{"postgres://soms_backend:changemebackend@postgres:5432/soms?sslmode=disable", "the password in DATABASE_URL is still a placeholder"},
		{"postgres://soms:soms@localhost:5432/soms?sslmode=disable", "the password in DATABASE_URL is 4 bytes"},
		{"postgres://soms_backend:9d2f0c61a7b84e3c5d6e7f8091a2b3c4@postgres:5432/soms", ""},
		{"postgres://soms@/soms?host=/run/postgresql", ""}, // peer authentication: no password to judge
		{"postgres:///soms", ""},
	} {
		err := CheckURLPassword("DATABASE_URL", tc.url, MinLength)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

// infra/env.example ships placeholders that must be replaced: every secret
// the Go services check is refused as shipped, so a production stack
// started from an unedited copy stops at once, naming the variable.
func TestEnvExamplePlaceholdersRefused(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "infra", "env.example"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	for _, name := range []string{"INTERNAL_SERVICE_TOKEN", "JWT_SECRET"} {
		if err := Check(name, env[name], MinLength); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("env.example's %s is accepted: %v", name, err)
		}
	}
	// The database URLs the compose file builds from the role passwords.
	for _, name := range []string{"SOMS_DB_BACKEND_PASSWORD", "SOMS_DB_WALLET_PASSWORD", "SOMS_DB_BRAIN_PASSWORD"} {
		u := "postgres://soms_x:" + env[name] + "@postgres:5432/soms?sslmode=disable"
		if err := CheckURLPassword("DATABASE_URL", u, MinLength); err == nil {
			t.Errorf("env.example's %s is accepted", name)
		}
	}
}
