// Package config fills service configuration structs from environment variables.
//
// Each field names its variable, default and meaning in struct tags, so the same
// struct is both the loader's schema and the documentation (`soms env <service>`):
//
//	type Config struct {
//		Port int `env:"BACKEND_PORT" default:"8000" doc:"HTTP listen port"`
//	}
//
// Nested structs are flattened; a struct field may add `prefix:"X_"` to prefix the
// names inside it. Supported kinds: string, bool, ints, floats, time.Duration
// ("30s", or a bare number of seconds as the original SOMS used), []string
// (comma-separated) and any encoding.TextUnmarshaler.
package config

import (
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Lookup returns the value of an environment variable and whether it is set;
// os.LookupEnv is the production implementation.
type Lookup func(name string) (string, bool)

// Var documents one configuration variable.
type Var struct {
	Name    string
	Default string
	Doc     string
	Type    string
}

// Load fills dst (a pointer to a struct) from lookup, applying defaults for unset
// or empty variables. All invalid values are reported together.
func Load(dst any, lookup Lookup) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return errors.New("config: Load needs a pointer to a struct")
	}
	var errs []error
	walk(v.Elem(), "", func(f reflect.Value, sf reflect.StructField, name string) {
		raw, ok := lookup(name)
		if !ok || raw == "" {
			raw, ok = sf.Tag.Lookup("default")
		}
		if !ok {
			return
		}
		if err := set(f, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, raw, err))
		}
	})
	return errors.Join(errs...)
}

// Describe lists the variables cfg (a struct or pointer to one) reads.
func Describe(cfg any) []Var {
	v := reflect.Indirect(reflect.ValueOf(cfg))
	var vars []Var
	walk(v, "", func(f reflect.Value, sf reflect.StructField, name string) {
		vars = append(vars, Var{Name: name, Default: sf.Tag.Get("default"), Doc: sf.Tag.Get("doc"), Type: typeName(f.Type())})
	})
	return vars
}

// WriteTable prints the variables of cfg as an aligned table.
func WriteTable(w io.Writer, cfg any) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tTYPE\tMEANING")
	for _, v := range Describe(cfg) {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, def, v.Type, v.Doc)
	}
	return tw.Flush()
}

// WriteMarkdown prints the variables of cfg as a Markdown table.
func WriteMarkdown(w io.Writer, cfg any) error {
	if _, err := fmt.Fprintln(w, "| variable | default | type | meaning |\n|---|---|---|---|"); err != nil {
		return err
	}
	for _, v := range Describe(cfg) {
		def := "`" + v.Default + "`"
		if v.Default == "" {
			def = ""
		}
		if _, err := fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", v.Name, def, v.Type, v.Doc); err != nil {
			return err
		}
	}
	return nil
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func walk(v reflect.Value, prefix string, visit func(reflect.Value, reflect.StructField, string)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		f := v.Field(i)
		name, tagged := sf.Tag.Lookup("env")
		if !tagged && f.Kind() == reflect.Struct && !reflect.PointerTo(f.Type()).Implements(textUnmarshalerType) {
			walk(f, prefix+sf.Tag.Get("prefix"), visit)
			continue
		}
		if !tagged || name == "-" {
			continue
		}
		visit(f, sf, prefix+name)
	}
}

func set(f reflect.Value, raw string) error {
	if f.CanAddr() && f.Addr().Type().Implements(textUnmarshalerType) {
		return f.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw))
	}
	if f.Type() == durationType {
		d, err := parseDuration(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("not a boolean (true/false)")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, f.Type().Bits())
		if err != nil {
			return errors.New("not an integer")
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(raw, 10, f.Type().Bits())
		if err != nil {
			return errors.New("not a non-negative integer")
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(raw, f.Type().Bits())
		if err != nil {
			return errors.New("not a number")
		}
		f.SetFloat(x)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", f.Type())
		}
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

// parseDuration accepts Go durations and, like the original SOMS, bare seconds.
func parseDuration(raw string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(raw, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, errors.New("not a duration (e.g. 30s, 5m, or seconds)")
	}
	return d, nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == durationType:
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "int"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}
