package queries

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TimeForms says which time values ParseTime accepts, for error messages and help.
const TimeForms = "'2026-03-01 10:00:00' or '2026-03-01' (UTC), RFC 3339, Unix milliseconds, now, today, yesterday, or relative like -24h, -7d, today-30d"

// ErrTime is wrapped by ParseTime's errors.
var ErrTime = errors.New("not a time")

var relativeTime = regexp.MustCompile(`^(now|today)?\s*([+-])\s*(\d+)\s*([smhdw])$`)

// ParseTime reads a time the way people type it on a command line: ClickHouse's own text form
// ('2026-03-01 10:00:00[.000]', '2026-03-01'; UTC), RFC 3339, Unix milliseconds, now, today (00:00 UTC),
// yesterday, tomorrow, or an offset from now (or from today) in seconds, minutes, hours, days or weeks:
// -24h, now-15m, today-7d.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	now = now.UTC()
	today := now.Truncate(24 * time.Hour)
	switch strings.ToLower(s) {
	case "now":
		return now, nil
	case "today":
		return today, nil
	case "yesterday":
		return today.AddDate(0, 0, -1), nil
	case "tomorrow":
		return today.AddDate(0, 0, 1), nil
	}
	if m := relativeTime.FindStringSubmatch(strings.ToLower(s)); m != nil {
		n, err := strconv.Atoi(m[3])
		if err == nil && n <= 100*366*24*3600 {
			unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[4]]
			d := time.Duration(n) * unit
			if m[2] == "-" {
				d = -d
			}
			base := now
			if m[1] == "today" {
				base = today
			}
			return base.Add(d), nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 10 {
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: empty", ErrTime)
	}
	return time.Time{}, fmt.Errorf("%w: %q", ErrTime, s)
}

// Optional reports whether the parameter may be left out, and the value it then takes: a parameter
// whose description says "empty for all" (or "empty for every …") is a filter that an empty value
// switches off, so leaving it out means the same; one whose description ends "(default VALUE)" takes
// VALUE (a page size, a cursor's start).
func (f Field) Optional() (def string, ok bool) {
	if m := defaultValue.FindStringSubmatch(f.Description); m != nil {
		return m[1], true
	}
	d := strings.ToLower(f.Description)
	if strings.Contains(d, "empty for all") || strings.Contains(d, "empty for every") {
		return "", true
	}
	return "", false
}

// defaultValue is a description's closing "(default VALUE)"; VALUE may be empty: "(default )".
var defaultValue = regexp.MustCompile(`\(default ([^()]*)\)$`)

// baseType strips Nullable(…) and LowCardinality(…).
func baseType(typ string) string {
	for {
		t := strings.TrimSpace(typ)
		inner, ok := strings.CutPrefix(t, "Nullable(")
		if !ok {
			inner, ok = strings.CutPrefix(t, "LowCardinality(")
		}
		if !ok || !strings.HasSuffix(inner, ")") {
			return t
		}
		typ = strings.TrimSuffix(inner, ")")
	}
}

// firstDay and lastDay bound ClickHouse's Date, by which the archive is partitioned and sorted
// (toDate(msg_time), toYYYYMM(…)): toDate of a time outside them wraps around (2299 becomes 2120), so
// a query given such a time would bound its days wrongly. Times are refused outside them.
var (
	firstDay = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	lastDay  = time.Date(2149, 6, 6, 0, 0, 0, 0, time.UTC)
)

var intType = regexp.MustCompile(`^(U?)Int(8|16|32|64)$`)

// bindValue checks v against the parameter's ClickHouse type, so that a wrong value is named with its
// parameter and type here rather than refused by the server in its own words, and returns the text
// ClickHouse parses. Types it does not know (arrays, maps, …) pass unchanged: the server checks them.
func bindValue(typ, v string, now time.Time) (string, error) {
	base := baseType(typ)
	s := strings.TrimSpace(v)
	switch {
	case strings.HasPrefix(base, "DateTime"):
		t, err := ParseTime(s, now)
		if err != nil {
			return "", fmt.Errorf("want a date-time: %s", TimeForms)
		}
		if t.Before(firstDay) || !t.Before(lastDay.Add(24*time.Hour)) {
			return "", fmt.Errorf("want a date-time from %s to %s: the archive is kept by day, and ClickHouse's days end there (use those bounds for all time)",
				firstDay.Format(time.DateOnly), lastDay.Format(time.DateOnly)+" 23:59:59")
		}
		if strings.HasPrefix(base, "DateTime64") {
			return t.Format("2006-01-02 15:04:05.000"), nil
		}
		return t.Format("2006-01-02 15:04:05"), nil
	case base == "Date" || base == "Date32":
		t, err := ParseTime(s, now)
		if err != nil {
			return "", fmt.Errorf("want a date: '2026-03-01', today, yesterday or -7d")
		}
		if base == "Date" && (t.Before(firstDay) || t.After(lastDay)) {
			return "", fmt.Errorf("want a date from %s to %s (ClickHouse's Date)", firstDay.Format(time.DateOnly), lastDay.Format(time.DateOnly))
		}
		return t.Format("2006-01-02"), nil
	case intType.MatchString(base):
		m := intType.FindStringSubmatch(base)
		bits, _ := strconv.Atoi(m[2])
		if m[1] == "U" {
			if _, err := strconv.ParseUint(s, 10, bits); err != nil {
				return "", fmt.Errorf("want a whole number from 0 to %d", uint64(math.MaxUint64)>>(64-bits))
			}
		} else if _, err := strconv.ParseInt(s, 10, bits); err != nil {
			return "", fmt.Errorf("want a whole number from %d to %d", int64(-1)<<(bits-1), int64(math.MaxInt64)>>(64-bits))
		}
		return s, nil
	case base == "Float32" || base == "Float64":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "", errors.New("want a number")
		}
		return s, nil
	case base == "Bool":
		switch strings.ToLower(s) {
		case "true", "1":
			return "true", nil
		case "false", "0":
			return "false", nil
		}
		return "", errors.New("want true or false")
	}
	return v, nil
}
