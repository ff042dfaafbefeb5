package queries

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// normalizeParam accepts friendlier spellings of date-time values; every other value passes unchanged
// (the server parses and type-checks it).
func normalizeParam(typ, v string) (string, error) {
	if !strings.HasPrefix(typ, "DateTime") && !strings.HasPrefix(typ, "Date") {
		return v, nil
	}
	s := strings.TrimSpace(v)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 10 {
		return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05.000"), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			if strings.HasPrefix(typ, "DateTime") {
				return t.UTC().Format("2006-01-02 15:04:05.000"), nil
			}
			return t.UTC().Format("2006-01-02"), nil
		}
	}
	if s == "" {
		return "", fmt.Errorf("empty %s", typ)
	}
	return s, nil
}
