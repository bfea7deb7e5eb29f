package scenario

import "strings"

// kind is one entry of the tables of step actions and expectation kinds: its
// key, how to make its part of a T (Step or Expectation) for decoding, and how
// to check that part once decoded (nil: nothing to check).
type kind[T, P any] struct {
	name  string
	part  func(*T) P
	check func(p *parser, sc scope, t *T)
}

// kinds is such a table, in the order error messages list the keys.
type kinds[T, P any] []kind[T, P]

func (ks kinds[T, P]) lookup(name string) (kind[T, P], bool) {
	for _, k := range ks {
		if k.name == name {
			return k, true
		}
	}
	return kind[T, P]{}, false
}

// String lists the keys: "people, zone, ...".
func (ks kinds[T, P]) String() string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.name
	}
	return strings.Join(names, ", ")
}

// alloc points *field at a new T and returns it.
func alloc[T any](field **T) *T {
	*field = new(T)
	return *field
}

// windowed is every expectation's part: they all embed Window.
type windowed interface{ window() *Window }

func (w *Window) window() *Window { return w }

var stepKinds = kinds[Step, any]{
	{StepPeople, func(st *Step) any { return alloc(&st.People) }, checkPeople},
	{StepZone, func(st *Step) any { return alloc(&st.Zone) }, func(p *parser, sc scope, st *Step) { p.zone(sc, st.Line, st.Zone.Zone) }},
	{StepPerson, func(st *Step) any { return alloc(&st.Person) }, checkPerson},
	{StepScene, func(st *Step) any { return alloc(&st.Scene) }, checkScene},
	{StepRamp, func(st *Step) any { return alloc(&st.Ramp) }, checkRamp},
	{StepFault, func(st *Step) any { return alloc(&st.Fault) }, checkFault},
	{StepOutside, func(st *Step) any { return alloc(&st.Outside) }, nil},
	{StepLLMFault, func(st *Step) any { return alloc(&st.LLMFault) }, checkLLMFault},
	{StepLLMRules, func(st *Step) any { return alloc(&st.LLMRules) }, checkLLMRules},
	{StepClock, func(st *Step) any { return alloc(&st.Clock) }, checkClock},
	{StepPublish, func(st *Step) any { return alloc(&st.Publish) }, checkPublish},
	{StepProcess, func(st *Step) any { return alloc(&st.Process) }, checkProcess},
	{StepComplete, func(st *Step) any { return alloc(&st.Complete) }, checkComplete},
}

var expectKinds = kinds[Expectation, windowed]{
	{ExpectTaskCreated, func(e *Expectation) windowed { return alloc(&e.Task) }, checkTask},
	{ExpectTaskNotCreated, func(e *Expectation) windowed { return alloc(&e.Task) }, checkTask},
	{ExpectDeviceCommand, func(e *Expectation) windowed { return alloc(&e.Command) }, checkCommand},
	{ExpectNoDeviceCommand, func(e *Expectation) windowed { return alloc(&e.Command) }, checkCommand},
	{ExpectVoiceEvent, func(e *Expectation) windowed { return alloc(&e.Voice) }, func(p *parser, sc scope, e *Expectation) { p.optZone(sc, e.Line, e.Voice.Zone) }},
	{ExpectLLMRequests, func(e *Expectation) windowed { return alloc(&e.LLM) }, defaultLLMCount},
	{ExpectWalletBalance, func(e *Expectation) windowed { return alloc(&e.Wallet) }, checkWallet},
	{ExpectWorld, func(e *Expectation) windowed { return alloc(&e.World) }, checkWorld},
	{ExpectBrainEvent, func(e *Expectation) windowed { return alloc(&e.Event) }, checkEvent},
	{ExpectNothingLost, func(e *Expectation) windowed { return alloc(&e.Lost) }, nil},
}
