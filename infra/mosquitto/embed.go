// Package mosquitto carries the broker's access-control list so the native
// harness and the compose deployment enforce the same rules.
package mosquitto

import _ "embed"

// ACL is the aclfile: which user may read and write which topics.
//
//go:embed aclfile
var ACL string

// Users of the ACL.
const (
	UserService = "soms"    // services and edge devices
	UserSim     = "sim"     // harness and simulator control
	UserMonitor = "monitor" // read-only observers
)
