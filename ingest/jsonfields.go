package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// fields is a platform payload's top-level object, each value kept as the raw JSON it arrived as.
type fields map[string]json.RawMessage

// ErrNotObject is returned for a body that is not one JSON object.
var ErrNotObject = errors.New("body is not a JSON object")

func parseFields(body []byte) (fields, error) {
	var f fields
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotObject, err)
	}
	if f == nil {
		return nil, ErrNotObject
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the object", ErrNotObject)
	}
	return f, nil
}

// str returns a field as text whether the platform sent it as a JSON string or as a number (platforms
// do both for the same field); other JSON values come back as their JSON text; a missing or null field
// is "".
func (f fields) str(name string) string {
	raw, ok := f[name]
	if !ok {
		return ""
	}
	return jsonText(raw)
}

func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s
		}
	}
	return string(raw)
}

// int64 returns a string-or-number field as an integer; ok is false when it is missing or not one.
func (f fields) int64(name string) (v int64, ok bool, err error) {
	s := strings.TrimSpace(f.str(name))
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Some platforms send "1646744308834.0"; accept integral floats.
		if fv, ferr := strconv.ParseFloat(s, 64); ferr == nil && fv == float64(int64(fv)) {
			return int64(fv), true, nil
		}
		return 0, false, fmt.Errorf("field %s: %q is not an integer", name, s)
	}
	return v, true, nil
}

// attrs returns every field as text, the way the canonical event keeps them.
func (f fields) attrs() map[string]string {
	m := make(map[string]string, len(f))
	for k, v := range f {
		m[k] = jsonText(v)
	}
	return m
}

// canonical returns the payload re-encoded with sorted keys and no insignificant white space: the
// input of an event_id where the platform gives no identity of its own.
func (f fields) canonical() []byte {
	b, _ := json.Marshal(map[string]json.RawMessage(f)) // sorted keys; RawMessage compacted by Marshal
	return b
}
