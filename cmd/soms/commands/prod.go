//go:build prod

package commands

import "github.com/somsgo/soms/services/perception"

// Built names this build in help and error messages.
const Built = "production (-tags prod)"

// simulation is empty in the production build.
func simulation() []Command { return nil }

// runPerception has no built-in models in production.
var runPerception = perception.Run
