package scenario

import (
	"errors"
	"fmt"
	"github.com/somsgo/soms/sim/stepper"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults of an unspecified scenario: a Monday 09:00 in Tokyo, 100× speed.
var (
	DefaultStart = time.Date(2026, 11, 23, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	DefaultSpeed = 100.0
)

// Error is one problem in a scenario file, with its line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Errors are all problems found in a file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Load reads and parses a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(path, data)
}

// parser collects errors with lines while decoding.
type parser struct {
	file string
	errs Errors
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// yamlLine matches the "line N: " prefix yaml.v3 puts on its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// decodeErr turns a yaml.v3 error into line-numbered errors.
func (p *parser) decodeErr(err error, fallback int) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var le *Error
	if errors.As(err, &le) {
		p.errs = append(p.errs, le)
		return
	}
	for _, m := range msgs {
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			n, _ := strconv.Atoi(g[1])
			p.errorf(n, "%s", g[2])
			continue
		}
		p.errorf(fallback, "%s", strings.TrimPrefix(m, "yaml: "))
	}
}

// decode checks node's keys against out's fields (recursively) and decodes.
func (p *parser) decode(node *yaml.Node, out any) bool {
	before := len(p.errs)
	p.checkKeys(node, reflect.TypeOf(out).Elem(), "")
	if len(p.errs) > before {
		return false
	}
	if err := node.Decode(out); err != nil {
		p.decodeErr(err, node.Line)
		return false
	}
	return true
}

// fieldNames are the YAML keys a struct type accepts, with their types.
func fieldNames(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range fieldNames(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// checkKeys reports keys that name no field, with the key's line.
func (p *parser) checkKeys(node *yaml.Node, t reflect.Type, where string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && node.Kind == yaml.MappingNode && t != reflect.TypeOf(time.Time{}):
		fields := fieldNames(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				slices.Sort(names)
				p.errorf(k.Line, "unknown field %q%s (expected one of: %s)", k.Value, where, strings.Join(names, ", "))
				continue
			}
			p.checkKeys(v, ft, " in "+k.Value)
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && node.Kind == yaml.SequenceNode:
		for _, item := range node.Content {
			p.checkKeys(item, t.Elem(), where)
		}
	}
}

// Parse decodes and validates a scenario; file names it in errors.
func Parse(file string, data []byte) (*Scenario, error) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.decodeErr(err, 0)
		return nil, p.errs
	}
	if len(doc.Content) == 0 {
		p.errorf(0, "the file is empty")
		return nil, p.errs
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "a scenario is a mapping (name:, timeline:, expect: ...)")
		return nil, p.errs
	}
	s := &Scenario{File: file}
	fields := map[string]any{
		"name": &s.Name, "description": &s.Description, "seed": &s.Seed, "start": &s.Start, "speed": &speedField{&s.Speed},
		"duration": &s.Duration, "layout": &s.Layout, "cameras": &s.Cameras, "llm": &s.LLM,
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		lines[k.Value] = k.Line
		into, isField := fields[k.Value]
		switch {
		case isField:
			p.decode(v, into)
		case k.Value == "timeline":
			p.steps(v, s)
		case k.Value == "expect":
			p.expectations(v, s)
		default:
			p.errorf(k.Line, "unknown field %q (expected name, description, seed, start, speed, duration, layout, cameras, llm, timeline, expect)", k.Value)
		}
	}
	p.validate(s, lines)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int { return a.Line - b.Line })
		return nil, p.errs
	}
	return s, nil
}

// speedField reads a speed: a number of simulated seconds per wall second,
// or max (stepper.Max: as fast as the processes allow).
type speedField struct{ v *float64 }

func (f *speedField) UnmarshalYAML(n *yaml.Node) error {
	sp, err := stepper.ParseSpeed(n.Value)
	if err != nil {
		return err
	}
	*f.v = float64(sp)
	return nil
}

func (p *parser) steps(node *yaml.Node, s *Scenario) {
	if node.Kind != yaml.SequenceNode {
		p.errorf(node.Line, "timeline is a list of steps (- at: 5m ...)")
		return
	}
	for _, n := range node.Content {
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, "a step is a mapping with at: and one action")
			continue
		}
		st := Step{Line: n.Line, At: -1}
		before := len(p.errs)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "at":
				p.decode(v, &st.At)
				continue
			case "note":
				p.decode(v, &st.Note)
				continue
			}
			sk, known := stepKinds.lookup(k.Value)
			if !known {
				p.errorf(k.Line, "unknown step kind %q (expected one of: %s)", k.Value, stepKinds)
				continue
			}
			if st.Kind != "" {
				p.errorf(k.Line, "step has two actions (%s and %s); split it into two steps", st.Kind, k.Value)
				continue
			}
			st.Kind = k.Value
			p.decode(v, sk.part(&st))
		}
		switch {
		case st.At < 0 && st.Kind != "":
			p.errorf(n.Line, "step %s has no \"at\" offset (e.g. at: 5m)", st.Kind)
		case st.Kind == "" && st.At >= 0 && len(p.errs) == before:
			p.errorf(n.Line, "step at %v has no action (expected one of: %s)", st.At, stepKinds)
		}
		s.Timeline = append(s.Timeline, st)
	}
}

func (p *parser) expectations(node *yaml.Node, s *Scenario) {
	if node.Kind != yaml.SequenceNode {
		p.errorf(node.Line, "expect is a list (- task_created: {...})")
		return
	}
	for _, n := range node.Content {
		if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
			p.errorf(n.Line, "an expectation has exactly one kind (one of: %s)", expectKinds)
			continue
		}
		k, v := n.Content[0], n.Content[1]
		e := Expectation{Line: k.Line, Kind: k.Value}
		ek, known := expectKinds.lookup(k.Value)
		if !known {
			p.errorf(k.Line, "unknown expectation kind %q (expected one of: %s)", k.Value, expectKinds)
			continue
		}
		if part := ek.part(&e); p.decode(v, part) {
			e.After, e.Within = part.window().After, part.window().Within
		}
		s.Expect = append(s.Expect, e)
	}
}
