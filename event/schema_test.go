package event_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/imarchive/imarchive/event"
)

type schemaDoc struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
	Defs       map[string]json.RawMessage `json:"$defs"`
}

type schemaProp struct {
	Type       string                     `json:"type"`
	Const      any                        `json:"const"`
	Enum       []string                   `json:"enum"`
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
	Items      *schemaProp                `json:"items"`
	Desc       string                     `json:"description"`
	AddProps   *schemaProp                `json:"additionalProperties"`
	Ref        string                     `json:"$ref"`
}

// jsonType is the JSON Schema type a Go field encodes to.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice:
		return "array"
	}
	return "?" + t.Kind().String()
}

// checkInStep compares one struct type with its schema object: the same property names, each of the
// type the Go field encodes to, described, and required exactly when the field has no omitempty.
func checkInStep(t *testing.T, where string, typ reflect.Type, props map[string]json.RawMessage, required []string, defs map[string]json.RawMessage) {
	t.Helper()
	var fields, wantRequired []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Errorf("%s.%s has no json name", where, f.Name)
			continue
		}
		fields = append(fields, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			wantRequired = append(wantRequired, name)
		}
		raw, ok := props[name]
		if !ok {
			t.Errorf("%s: field %s (%s) is not in the schema", where, name, f.Name)
			continue
		}
		var p schemaProp
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("%s.%s: %v", where, name, err)
		}
		if p.Desc == "" {
			t.Errorf("%s.%s: no description", where, name)
		}
		if ref, ok := strings.CutPrefix(p.Ref, "#/$defs/"); ok {
			def, found := defs[ref]
			if !found {
				t.Fatalf("%s.%s: $ref %s is not in $defs", where, name, p.Ref)
			}
			desc := p.Desc
			p = schemaProp{}
			if err := json.Unmarshal(def, &p); err != nil {
				t.Fatalf("%s.%s: %v", where, name, err)
			}
			p.Desc = desc
		}
		want := jsonType(f.Type)
		got := p.Type
		if got == "" && (p.Enum != nil || p.Const != nil) {
			got = "string"
			if _, isNum := p.Const.(float64); isNum {
				got = "integer"
			}
		}
		if got != want {
			t.Errorf("%s.%s: schema type %q, Go type %s encodes to %q", where, name, got, f.Type, want)
		}
		switch {
		case f.Type.Kind() == reflect.Struct:
			checkInStep(t, where+"."+name, f.Type, p.Properties, p.Required, defs)
		case f.Type.Kind() == reflect.Slice && (p.Items == nil || p.Items.Type != jsonType(f.Type.Elem())):
			t.Errorf("%s.%s: items are not of type %s", where, name, jsonType(f.Type.Elem()))
		case f.Type.Kind() == reflect.Map && (p.AddProps == nil || p.AddProps.Type != jsonType(f.Type.Elem())):
			t.Errorf("%s.%s: values are not of type %s", where, name, jsonType(f.Type.Elem()))
		}
	}
	for name := range props {
		if !slices.Contains(fields, name) {
			t.Errorf("%s: schema property %s has no Go field", where, name)
		}
	}
	sort.Strings(wantRequired)
	required = slices.Clone(required)
	sort.Strings(required)
	if !slices.Equal(required, wantRequired) {
		t.Errorf("%s: schema requires %v, the Go type always writes %v", where, required, wantRequired)
	}
}

// TestSchemaInStepWithEvent keeps schema/vN.json (N = SchemaVersion) and the Event type in step: every field, its type,
// which are always written, and the enumerations of source, kind and op.
func TestSchemaInStepWithEvent(t *testing.T) {
	var doc schemaDoc
	if err := json.Unmarshal(event.JSONSchema, &doc); err != nil {
		t.Fatal(err)
	}
	checkInStep(t, "Event", reflect.TypeFor[event.Event](), doc.Properties, doc.Required, doc.Defs)
	for prop, want := range map[string][]string{"source": event.Sources(), "kind": event.Kinds(), "op": event.Ops()} {
		var p schemaProp
		if err := json.Unmarshal(doc.Properties[prop], &p); err != nil {
			t.Fatal(err)
		}
		got, w := slices.Clone(p.Enum), slices.Clone(want)
		sort.Strings(got)
		sort.Strings(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: schema enum %v, Go constants %v", prop, got, w)
		}
	}
	var v struct {
		Const int `json:"const"`
	}
	json.Unmarshal(doc.Properties["schema_version"], &v)
	if v.Const != event.SchemaVersion {
		t.Errorf("schema_version const %d, SchemaVersion %d", v.Const, event.SchemaVersion)
	}
	name := fmt.Sprintf("schema/v%d.json", event.SchemaVersion)
	disk, err := os.ReadFile(name)
	if err != nil || !bytes.Equal(disk, event.JSONSchema) {
		t.Errorf("embedded schema differs from %s (%v)", name, err)
	}
}

// compileSchema compiles the embedded schema with a JSON Schema validator.
func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(event.JSONSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("event.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("event.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGoldenEventsValidate validates every golden event of normalize/testdata against the schema, and
// checks the validator rejects what the schema forbids.
func TestGoldenEventsValidate(t *testing.T) {
	s := compileSchema(t)
	files, err := filepath.Glob("../normalize/testdata/*/*.event.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("found %d golden events, want every seed example's", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	good := `{"schema_version":2,"event_id":"0123456789abcdef0123456789abcdef","source":"maxim","app":"a","kind":"message","platform_type":"CHAT","occurred_at_ms":0,"received_at_ms":1,"target":{},"attrs":{}}`
	for name, doc := range map[string]string{
		"short event_id":  strings.Replace(good, "0123456789abcdef0123456789abcdef", "abc", 1),
		"unknown source":  strings.Replace(good, `"maxim"`, `"icq"`, 1),
		"unknown op":      strings.Replace(good, `"kind":"message"`, `"kind":"message","op":"explode"`, 1),
		"attr not string": strings.Replace(good, `"attrs":{}`, `"attrs":{"n":1}`, 1),
		"no target":       strings.Replace(good, `"target":{},`, ``, 1),
		"old version":     strings.Replace(good, `"schema_version":2`, `"schema_version":1`, 1),
		"empty reply":     strings.Replace(good, `"target":{}`, `"reply":{},"target":{}`, 1),
		"priority text":   strings.Replace(good, `"target":{}`, `"target":{"role_priorities":{"1":"2"}}`, 1),
	} {
		v, _ := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err := s.Validate(v); err == nil {
			t.Errorf("%s: validated, want a schema error", name)
		}
	}
	v, _ := jsonschema.UnmarshalJSON(strings.NewReader(good))
	if err := s.Validate(v); err != nil {
		t.Errorf("minimal event: %v", err)
	}
}
