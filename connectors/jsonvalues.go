package connectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Attrs turns a JSON object's fields into the attrs map of a snapshot row: strings as they are,
// every other value as its JSON text, so nothing the platform sent is dropped.
func Attrs(obj map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		var s string
		if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		out[k] = string(bytes.TrimSpace(v))
	}
	return out
}

// FlexString is a JSON string or number read as text: platforms send ids both ways ("414" and 414;
// Maxim's 2302128618880). Numbers keep their exact digits. null and absent are "".
type FlexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = FlexString(n.String())
		return nil
	}
	return fmt.Errorf("want a string or a number, got %.40s", b)
}

// FlexInt is a JSON number, or a string holding one ("1"), read as an int64. null and absent are 0.
type FlexInt int64

// UnmarshalJSON accepts a number, a numeric string or null.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	t := strings.TrimSpace(string(s))
	if t == "" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if fl, ferr := strconv.ParseFloat(t, 64); ferr == nil && fl == float64(int64(fl)) {
			*f = FlexInt(int64(fl))
			return nil
		}
		return fmt.Errorf("want an integer, got %q", t)
	}
	*f = FlexInt(n)
	return nil
}

// JSONList decodes a list that a platform may send as a JSON array or as a string holding one (the
// iLink manual types its lists as "json"). null and absent are an empty list.
func JSONList[T any](raw json.RawMessage) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '"' {
		var inner string
		if err := json.Unmarshal(raw, &inner); err != nil {
			return nil, err
		}
		inner = strings.TrimSpace(inner)
		if inner == "" {
			return nil, nil
		}
		raw = json.RawMessage(inner)
	}
	var out []T
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}
