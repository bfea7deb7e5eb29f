package mcp

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/somsgo/soms/internal/jsonnum"
)

// Tool is a device tool's name and argument schema (the subset of an MCP
// tool's JSON Schema inputSchema that devices use). A device checks every
// call against it before acting, as the reference firmware does: the broker
// confines who may call, the schema what a call may ask.
type Tool struct {
	Name   string
	Params []Param
}

// Param is one argument.
type Param struct {
	Name     string
	Type     ParamType
	Required bool
	// Min and Max bound a number (inclusive; nil: unbounded).
	Min, Max *float64
	// Enum lists the values a string may take (empty: any).
	Enum []string
}

// ParamType is an argument's JSON type.
type ParamType string

// Argument types. IntegerOrString takes either (a swarm leaf by number or
// name); OnOff a switch state: true/false, 1/0 or "on"/"off".
const (
	Number          ParamType = "number"
	Integer         ParamType = "integer"
	String          ParamType = "string"
	Boolean         ParamType = "boolean"
	Object          ParamType = "object"
	IntegerOrString ParamType = "integer|string"
	OnOff           ParamType = "on|off"
)

// Range is a Min/Max pair for Param.
func Range(lo, hi float64) (*float64, *float64) { return &lo, &hi }

// numbers is what a numeric argument accepts: JSON numbers only (a device
// does not guess at "24" or true).
const numbers = jsonnum.Numbers

// Validate checks args against the tool's schema: no unknown arguments, every
// required one present, each of its type and within its bounds. The error
// says which argument is wrong and why; it becomes the device's error reply.
func (t Tool) Validate(args map[string]any) error {
	known := map[string]Param{}
	for _, p := range t.Params {
		known[p.Name] = p
	}
	var unknown []string
	for name := range args {
		if _, ok := known[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("%s: unknown argument %s", t.Name, strings.Join(unknown, ", "))
	}
	for _, p := range t.Params {
		v, ok := args[p.Name]
		if !ok || v == nil {
			if p.Required {
				return fmt.Errorf("%s: missing argument %s (%s)", t.Name, p.Name, p.Type)
			}
			continue
		}
		if err := p.check(v); err != nil {
			return fmt.Errorf("%s: argument %s %w", t.Name, p.Name, err)
		}
	}
	return nil
}

func (p Param) check(v any) error {
	switch p.Type {
	case Number, Integer:
		f, ok := jsonnum.Float(v, numbers)
		if !ok {
			return fmt.Errorf("must be a %s", p.Type)
		}
		if p.Type == Integer && f != math.Trunc(f) {
			return fmt.Errorf("must be an integer, not %g", f)
		}
		if p.Min != nil && f < *p.Min || p.Max != nil && f > *p.Max {
			return fmt.Errorf("%g is out of range %s", f, p.bounds())
		}
	case IntegerOrString:
		if s, ok := v.(string); ok {
			if s == "" {
				return fmt.Errorf("must not be empty")
			}
			return nil
		}
		return Param{Type: Integer, Min: p.Min, Max: p.Max}.check(v)
	case OnOff:
		switch x := v.(type) {
		case bool:
			return nil
		case string:
			if x == "on" || x == "off" {
				return nil
			}
		case float64:
			if x == 0 || x == 1 {
				return nil
			}
		}
		return fmt.Errorf("must be on or off (true/false, 1/0)")
	case String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be a string")
		}
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, s) {
			return fmt.Errorf("%q is not one of %s", s, strings.Join(p.Enum, ", "))
		}
	case Boolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("must be true or false")
		}
	case Object:
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("must be an object")
		}
	default:
		return fmt.Errorf("has an unknown schema type %q", p.Type)
	}
	return nil
}

func (p Param) bounds() string {
	lo, hi := "-∞", "∞"
	if p.Min != nil {
		lo = fmt.Sprint(*p.Min)
	}
	if p.Max != nil {
		hi = fmt.Sprint(*p.Max)
	}
	return lo + ".." + hi
}

// Toolset is a device's tools by name.
type Toolset []Tool

// Check finds tool name and validates args against it: an unknown tool is an
// error as well.
func (ts Toolset) Check(name string, args map[string]any) error {
	for _, t := range ts {
		if t.Name == name {
			return t.Validate(args)
		}
	}
	return fmt.Errorf("unknown tool %q", name)
}
