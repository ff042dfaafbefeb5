package ingest

import (
	"encoding/json"
	"testing"
)

// FuzzPlainStringMatchesUnmarshal: the fast path of jsonText gives exactly what json.Unmarshal gives
// for every JSON string it accepts, and jsonText as a whole agrees with Unmarshal on every string.
func FuzzPlainStringMatchesUnmarshal(f *testing.F) {
	for _, s := range []string{`"yx"`, `"文本消息"`, `"a\"b"`, `"\u00e9"`, `"tab\there"`, "\"\xff\"", `""`, `"a\\b"`, `"1646744308834"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want string
		uerr := json.Unmarshal(raw, &want)
		if got, ok := plainString(raw); ok {
			if uerr != nil {
				t.Fatalf("plainString accepted %q, which is not a JSON string: %v", raw, uerr)
			}
			if got != want {
				t.Fatalf("plainString(%q) = %q, json.Unmarshal gives %q", raw, got, want)
			}
		}
		if uerr == nil {
			if got := jsonText(raw); got != want {
				t.Fatalf("jsonText(%q) = %q, json.Unmarshal gives %q", raw, got, want)
			}
		}
	})
}
