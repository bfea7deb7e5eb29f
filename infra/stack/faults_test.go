package stack

import "github.com/somsgo/soms/sim/scenario"

// The compose stack carries out the fault steps of scenarios (process: kill,
// start, restart) on its containers.
var _ scenario.Faults = (*Stack)(nil)
