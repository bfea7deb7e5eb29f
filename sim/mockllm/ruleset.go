package mockllm

import (
	"bytes"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// Rule-set modes: how loaded rules combine with the current table.
const (
	// ModePrepend puts the loaded rules before the table (the default), so
	// a scenario overrides some answers and keeps the rest.
	ModePrepend = "prepend"
	// ModeReplace replaces the table.
	ModeReplace = "replace"
)

// RuleSet is a rules file (MOCKLLM_RULES) or control-API body: either a bare
// list of rules, or an object with mode, rules and faults. YAML or JSON.
type RuleSet struct {
	Mode   string  `json:"mode,omitempty" yaml:"mode,omitempty"`
	Rules  []Rule  `json:"rules" yaml:"rules"`
	Faults []Fault `json:"faults,omitempty" yaml:"faults,omitempty"`
}

// ParseRuleSet decodes YAML (JSON is YAML too) and validates it. Unknown
// fields are errors, reported with their line.
func ParseRuleSet(data []byte) (RuleSet, error) {
	rs, err := decodeRuleSet(data)
	if err != nil {
		return RuleSet{}, err
	}
	return rs, rs.validate()
}

func decodeRuleSet(data []byte) (RuleSet, error) {
	var rs RuleSet
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return rs, fmt.Errorf("rule set is empty")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if trimmed[0] == '[' || trimmed[0] == '-' {
		if err := dec.Decode(&rs.Rules); err != nil {
			return RuleSet{}, fmt.Errorf("rules: %w", err)
		}
	} else if err := dec.Decode(&rs); err != nil {
		return RuleSet{}, fmt.Errorf("rule set: %w", err)
	}
	if rs.Mode == "" {
		rs.Mode = ModePrepend
	}
	return rs, nil
}

func (rs *RuleSet) validate() error {
	if rs.Mode != ModePrepend && rs.Mode != ModeReplace {
		return fmt.Errorf("rule set: mode must be %s or %s", ModePrepend, ModeReplace)
	}
	if _, err := CompileRules(rs.Rules); err != nil {
		return err
	}
	for i := range rs.Faults {
		if err := rs.Faults[i].Validate(); err != nil {
			return err
		}
	}
	return nil
}

// LoadRuleSet reads a rules file.
func LoadRuleSet(path string) (RuleSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return RuleSet{}, fmt.Errorf("MOCKLLM_RULES: %w", err)
	}
	rs, err := ParseRuleSet(data)
	if err != nil {
		return RuleSet{}, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}
