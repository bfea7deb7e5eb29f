// Package secret refuses, at start-up, the secrets a production deployment
// must not run with: a missing one, the placeholders of infra/env.example
// ("change-me…"), and short ones. Each error names the variable and says how
// to make a good value, so the operator fixes .env rather than the code.
//
// Services check in production only (service.Common.Production: the wall
// clock); simulations and tests generate their own random secrets.
package secret

import (
	"fmt"
	"net/url"
	"strings"
)

// MinLength is the shortest shared secret, token or password accepted:
// 16 hex characters are 64 random bits.
const MinLength = 16

// how says how to make a good secret.
const how = "use a random one, e.g. `openssl rand -hex 32`"

// Check refuses value as the secret named name when it is empty, a
// placeholder, or shorter than min bytes.
func Check(name, value string, min int) error {
	switch {
	case value == "":
		return fmt.Errorf("%s is not set: %s", name, how)
	case Placeholder(value):
		return fmt.Errorf("%s is still a placeholder (change-me…) from env.example: %s", name, how)
	case len(value) < min:
		return fmt.Errorf("%s is %d bytes, too short: at least %d; %s", name, len(value), min, how)
	}
	return nil
}

// CheckURLPassword checks the password of a connection URL (DATABASE_URL)
// like Check. A URL without a password (peer or certificate authentication,
// PGPASSWORD, a password file) passes: there is nothing to judge.
func CheckURLPassword(name, rawURL string, min int) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return nil // the driver reports a malformed URL with its own message
	}
	pass, set := u.User.Password()
	if !set {
		return nil
	}
	if err := Check("the password in "+name, pass, min); err != nil {
		return err
	}
	return nil
}

// Placeholder reports whether v is (or contains) the "change me" of an
// example file, however it is spelled: change-me, change_me, CHANGEME.
func Placeholder(v string) bool {
	norm := strings.NewReplacer("-", "", "_", "", " ", "", ".", "").Replace(strings.ToLower(v))
	return strings.Contains(norm, "changeme")
}
