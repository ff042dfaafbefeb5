package connectors

import (
	"encoding/json"
	"log/slog"
	"net/url"
	"sort"
	"strings"
)

// Secret is a credential (an iLink secretkey or token, a Maxim access-token). Every way of printing
// it — fmt verbs, slog, JSON — shows a mask; Reveal returns the value, for the one place that sends it.
type Secret string

// Masked is what a non-empty secret prints as.
const Masked = "***"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Masked
}

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `connectors.Secret("` + s.String() + `")` }

// LogValue masks the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON masks the secret in JSON output.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Redactor replaces known secret values in text: error messages and log lines built from text the
// connector did not write itself (a transport error quoting a URL with an access_token, a platform's
// error message echoing a request). The zero Redactor changes nothing.
type Redactor struct {
	values []string // longest first, so a secret containing another is replaced whole
}

// NewRedactor returns a redactor for the given values; values shorter than 3 characters are ignored
// (masking them would garble ordinary text).
func NewRedactor(values ...string) *Redactor {
	r := &Redactor{}
	r.Add(values...)
	return r
}

// Add registers more values (an access token obtained at run time).
func (r *Redactor) Add(values ...string) {
	if r == nil {
		return
	}
	for _, v := range values {
		if len(v) < 3 {
			continue
		}
		dup := false
		for _, have := range r.values {
			if have == v {
				dup = true
				break
			}
		}
		if !dup {
			r.values = append(r.values, v)
			if q := url.QueryEscape(v); q != v {
				r.values = append(r.values, q)
			}
		}
	}
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

// String returns s with every registered value masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Masked)
	}
	return s
}

// Error returns err with its message redacted; errors.Is and errors.As still see the original chain.
func (r *Redactor) Error(err error) error {
	if err == nil || r == nil {
		return err
	}
	msg := err.Error()
	red := r.String(msg)
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// MaskURL returns u for printing: the password of its user info, every query value, and — for a
// path of the shape …/v1/ilink/{appkey}/{path-secret} (our own iLink callback URL) — the last path
// segment masked. A URL that does not parse is masked whole.
func MaskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Masked
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), maskMark)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			q[k] = []string{maskMark}
		}
		u.RawQuery = q.Encode()
	}
	segs := strings.Split(u.Path, "/")
	for i := 0; i+3 < len(segs); i++ {
		if segs[i] == "v1" && segs[i+1] == "ilink" && segs[i+3] != "" {
			segs[i+3] = maskMark
			u.Path = strings.Join(segs, "/")
			u.RawPath = ""
			break
		}
	}
	return strings.ReplaceAll(u.String(), maskMark, Masked)
}

// maskMark stands in for a masked part while the URL is re-encoded (url.String would escape "*").
const maskMark = "imarchivemasked7f3a"

// URLSecrets returns the parts of a URL that MaskURL hides (password, query values, the iLink path
// secret), for a Redactor.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	var out []string
	if u.User != nil {
		if p, has := u.User.Password(); has {
			out = append(out, p)
		}
	}
	for _, vs := range u.Query() {
		out = append(out, vs...)
	}
	segs := strings.Split(u.Path, "/")
	for i := 0; i+3 < len(segs); i++ {
		if segs[i] == "v1" && segs[i+1] == "ilink" && segs[i+3] != "" {
			out = append(out, segs[i+3])
			break
		}
	}
	return out
}
