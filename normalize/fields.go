package normalize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/imarchive/imarchive/internal/jsonx"
)

// fields is a platform payload's top-level object: each field's JSON as it arrived and its text.
type fields struct {
	all []field // in the order of the body; a key sent twice keeps its last value, as encoding/json does
	// text is every field as text (jsonText), by key: the event's Attrs.
	text map[string]string
	// spaced: some key has white space around it (the manuals' " time"), so a name not found exactly
	// is looked for among the trimmed keys.
	spaced bool
}

type field struct {
	key  string
	raw  []byte // the value's JSON, as sent
	text string // jsonText(raw)
}

// ErrNotObject is returned for a body that is not one JSON object.
var ErrNotObject = errors.New("body is not a JSON object")

// parseFields reads body's top-level object. The hand-written reader (internal/jsonx) takes every body
// it can; anything else — bad JSON above all, which encoding/json then words — goes through
// json.Unmarshal, whose answers the reader is held to (FuzzParseFieldsMatchesUnmarshal).
func parseFields(body []byte) (fields, error) {
	if f, ok := parseFieldsFast(body); ok {
		return f, nil
	}
	return parseFieldsStd(body)
}

// parseFieldsFast reads body with jsonx. The texts of plain strings (most fields) and of numbers are
// slices of one copy of the body: one allocation for every value's text.
func parseFieldsFast(body []byte) (fields, bool) {
	var arr [24]jsonx.Member
	members, ok := jsonx.Object(body, arr[:0])
	if !ok {
		return fields{}, false
	}
	src := string(body)
	at := func(b []byte) string { // b is a slice of body: the same bytes of src
		off := cap(body) - cap(b)
		return src[off : off+len(b)]
	}
	f := fields{all: make([]field, 0, len(members)), text: make(map[string]string, len(members))}
	for _, m := range members {
		var key string
		if m.KeyPlain {
			key = at(m.Key[1 : len(m.Key)-1])
		} else if key, ok = jsonx.Unquote(m.Key); !ok {
			return fields{}, false
		}
		var text string
		switch v := m.Value; v[0] {
		case '"':
			if m.ValuePlain {
				text = at(v[1 : len(v)-1])
			} else if text, ok = jsonx.Unquote(v); !ok {
				return fields{}, false
			}
		case 'n':
			text = "" // null
		default:
			text = at(v)
		}
		f.add(key, m.Value, text)
	}
	return f, true
}

// parseFieldsStd reads body with encoding/json.
func parseFieldsStd(body []byte) (fields, error) {
	var m map[string]json.RawMessage
	// Unmarshal refuses trailing data after the object as well; values stay raw JSON (no float64s).
	if err := json.Unmarshal(body, &m); err != nil {
		return fields{}, fmt.Errorf("%w: %w", ErrNotObject, err)
	}
	if m == nil {
		return fields{}, ErrNotObject
	}
	f := fields{all: make([]field, 0, len(m)), text: make(map[string]string, len(m))}
	for k, v := range m {
		f.add(k, v, jsonText(v))
	}
	return f, nil
}

// add puts a field; a key already there gets the new value in its place.
func (f *fields) add(key string, raw []byte, text string) {
	if _, dup := f.text[key]; dup {
		for i := range f.all {
			if f.all[i].key == key {
				f.all[i].raw, f.all[i].text = raw, text
			}
		}
	} else {
		f.all = append(f.all, field{key: key, raw: raw, text: text})
		if !f.spaced && len(key) > 0 && (isSpaceByte(key[0]) || isSpaceByte(key[len(key)-1])) {
			f.spaced = true
		}
	}
	f.text[key] = text
}

// isSpaceByte: white space strings.TrimSpace removes, in ASCII.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c >= utf8.RuneSelf
}

// raw returns a field's JSON. A name is matched exactly first, then against the keys with surrounding
// white space removed: the manuals' examples carry keys like " time" (a conversion artefact, or a
// platform sending it so), and such a key still means "time".
func (f fields) raw(name string) (json.RawMessage, bool) {
	if i, ok := f.index(name); ok {
		return f.all[i].raw, true
	}
	return nil, false
}

// index is the place of name in list (see raw).
func (f fields) index(name string) (int, bool) {
	if _, ok := f.text[name]; ok {
		for i := range f.all {
			if f.all[i].key == name {
				return i, true
			}
		}
	}
	if f.spaced {
		for i := range f.all {
			if strings.TrimSpace(f.all[i].key) == name {
				return i, true
			}
		}
	}
	return 0, false
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
	if s, ok := f.text[name]; ok {
		return s
	}
	if i, ok := f.index(name); ok {
		return f.all[i].text
	}
	return ""
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
	if !isPlainString(raw) {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

// isPlainString reports whether plainString takes raw.
func isPlainString(raw []byte) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	inner := raw[1 : len(raw)-1]
	for _, b := range inner {
		if b == '\\' || b == '"' || b < 0x20 {
			return false
		}
	}
	return utf8.Valid(inner)
}

// int64 returns a string-or-number field as an integer; ok is false when it is missing or empty. A
// value that is not an integer is an error wrapping ErrBadField.
func (f fields) int64(name string) (v int64, ok bool, err error) {
	return parseInt64(name, f.str(name))
}

// parseInt64 reads the text s of the field name as fields.int64 does.
func parseInt64(name, s string) (v int64, ok bool, err error) {
	s = strings.TrimSpace(s)
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
		n, ok, err := parseInt64(k, jsonText(v))
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

// attrs returns every field as text, the way the canonical event keeps them. The map is the one
// str reads: the event takes it over.
func (f fields) attrs() map[string]string { return f.text }

// canonical returns the payload re-encoded with sorted keys and no insignificant white space: the
// input of an event_id where the platform gives no identity of its own. It is what json.Marshal writes
// for the object as a map of json.RawMessage (keys sorted by their bytes, values compacted, '<', '>',
// '&', U+2028 and U+2029 escaped): written here when every value is a number, a literal or a string
// that needs no such escape, by json.Marshal otherwise (FuzzParseFieldsMatchesUnmarshal holds the two
// together).
func (f fields) canonical() []byte {
	if b, ok := f.canonicalFast(); ok {
		return b
	}
	m := make(map[string]json.RawMessage, len(f.all))
	for _, fl := range f.all {
		m[fl.key] = fl.raw
	}
	b, _ := json.Marshal(m) // sorted keys; RawMessage compacted by Marshal
	return b
}

func (f fields) canonicalFast() ([]byte, bool) {
	n := 2
	for _, fl := range f.all {
		if len(fl.raw) == 0 || fl.raw[0] == '{' || fl.raw[0] == '[' || bytes.ContainsAny(fl.raw, "<>&\u2028\u2029") {
			return nil, false
		}
		n += len(fl.key) + len(fl.raw) + 4
	}
	sorted := slices.Clone(f.all)
	slices.SortFunc(sorted, func(a, b field) int { return strings.Compare(a.key, b.key) })
	b := make([]byte, 0, n+16)
	b = append(b, '{')
	for i, fl := range sorted {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, fl.key, true)
		b = append(b, ':')
		b = append(b, fl.raw...)
	}
	return append(b, '}'), true
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
