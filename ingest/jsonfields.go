package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fields is a platform payload's top-level object, each value kept as the raw JSON it arrived as.
type fields map[string]json.RawMessage

// ErrNotObject is returned for a body that is not one JSON object.
var ErrNotObject = errors.New("body is not a JSON object")

func parseFields(body []byte) (fields, error) {
	var f fields
	// Unmarshal refuses trailing data after the object as well; values stay raw JSON (no float64s).
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotObject, err)
	}
	if f == nil {
		return nil, ErrNotObject
	}
	return f, nil
}

// raw returns a field's JSON. A name is matched exactly first, then against the keys with surrounding
// white space removed: the manuals' examples carry keys like " time" (a conversion artefact, or a
// platform sending it so), and such a key still means "time".
func (f fields) raw(name string) (json.RawMessage, bool) {
	if v, ok := f[name]; ok {
		return v, true
	}
	for k, v := range f {
		if strings.TrimSpace(k) == name {
			return v, true
		}
	}
	return nil, false
}

// has reports whether a field is present and not null.
func (f fields) has(name string) bool {
	v, ok := f.raw(name)
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// str returns a field as text whether the platform sent it as a JSON string or as a number (platforms
// do both for the same field); other JSON values come back as their JSON text; a missing or null field
// is "".
func (f fields) str(name string) string {
	raw, ok := f.raw(name)
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
		if s, ok := plainString(raw); ok {
			return s
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s
		}
	}
	return string(raw)
}

// plainString returns a JSON string's text without decoding when it needs none: no escape, no quote
// inside, no control byte, valid UTF-8. That is most fields, and it is what json.Unmarshal would give
// (FuzzPlainStringMatchesUnmarshal holds the two together).
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, b := range inner {
		if b == '\\' || b == '"' || b < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

// int64 returns a string-or-number field as an integer; ok is false when it is missing or empty. A
// value that is not an integer is an error wrapping ErrBadField.
func (f fields) int64(name string) (v int64, ok bool, err error) {
	s := strings.TrimSpace(f.str(name))
	if s == "" {
		return 0, false, nil
	}
	v, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Some platforms send "1646744308834.0"; accept integral floats.
		if fv, ferr := strconv.ParseFloat(s, 64); ferr == nil && fv == float64(int64(fv)) && fv >= -9e18 && fv <= 9e18 {
			return int64(fv), true, nil
		}
		return 0, false, fmt.Errorf("%w: %s: %q is not an integer", ErrBadField, name, clip(s))
	}
	return v, true, nil
}

// timeMs returns a time field in Unix milliseconds; negative times are an error.
func (f fields) timeMs(name string) (int64, bool, error) {
	v, ok, err := f.int64(name)
	if err == nil && v < 0 {
		return 0, false, fmt.Errorf("%w: %s: negative time %d", ErrBadField, name, v)
	}
	return v, ok, err
}

// boolean returns a field sent as a JSON boolean or as the text "true"/"false" (NetEase "antispam"
// is documented as a String that "can be converted to Boolean"); "1"/"0" are accepted too.
func (f fields) boolean(name string) (v, ok bool, err error) {
	s := strings.ToLower(strings.TrimSpace(f.str(name)))
	switch s {
	case "":
		return false, false, nil
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	}
	return false, false, fmt.Errorf("%w: %s: %q is not a boolean", ErrBadField, name, clip(s))
}

// list decodes a list field that the platform sends either as a JSON array or as a JSON array inside
// a string ("[\"a\",\"b\"]"); elements come back as text (numbers as their decimal text, strings as
// they are). A plain string that is not an array is one element. A missing, null or empty field is nil.
func (f fields) list(name string) ([]string, error) {
	raw, ok := f.raw(name)
	if !ok {
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		s := strings.TrimSpace(jsonText(raw))
		if s == "" {
			return nil, nil
		}
		if !strings.HasPrefix(s, "[") {
			return []string{s}, nil
		}
		raw = json.RawMessage(s)
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] != '[' {
		return []string{jsonText(raw)}, nil // a lone number
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("%w: %s: not a list: %w", ErrBadField, name, err)
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		out = append(out, jsonText(e))
	}
	return out, nil
}

// intObject decodes an object of integers sent as a JSON object or as a JSON object inside a string
// (NetEase roleIdPriority: {"181786":1,"181785":2}; its table spells the values "优先级1", so each
// value may be a number or a string holding one). A missing, null or empty field is nil; a value that
// is not an integer is an error wrapping ErrBadField.
func (f fields) intObject(name string) (map[string]int64, error) {
	raw, ok := f.raw(name)
	if !ok {
		return nil, nil
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		s := strings.TrimSpace(jsonText(raw))
		if s == "" {
			return nil, nil
		}
		raw = json.RawMessage(s)
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: not an object: %w", ErrBadField, name, err)
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		n, ok, err := fields{k: v}.int64(k)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %q: %q is not an integer", ErrBadField, name, clip(k), clip(jsonText(v)))
		}
		if ok {
			out[k] = n
		}
	}
	return out, nil
}

// sortIDs sorts ids in place the way people read them: decimal numbers by value ("9" before "10"),
// then anything else in byte order.
func sortIDs(ids []string) {
	sort.SliceStable(ids, func(i, j int) bool {
		a, aerr := strconv.ParseUint(ids[i], 10, 64)
		b, berr := strconv.ParseUint(ids[j], 10, 64)
		switch {
		case aerr == nil && berr == nil:
			if a != b {
				return a < b
			}
			return ids[i] < ids[j]
		case aerr == nil:
			return true
		case berr == nil:
			return false
		}
		return ids[i] < ids[j]
	})
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

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
