package ingest_test

import (
	"strings"
	"testing"

	"github.com/imarchive/imarchive/ingest"
)

// FuzzParseILinkApps: the configuration decoder accepts only well-formed lists and never shows a
// token or secret in its error: the same list with every token and secret replaced by a marker gives
// an error without the marker.
func FuzzParseILinkApps(f *testing.F) {
	f.Add("app1=tok:sec,app2=t:s")
	f.Add(" a = b : c ")
	f.Add("a=b")
	f.Add("a=b:c,a=d:e")
	f.Fuzz(func(t *testing.T, s string) {
		apps, err := ingest.ParseILinkApps(s)
		if err == nil {
			for k, a := range apps {
				if k == "" || a.Token == "" || a.Secret == "" || strings.ContainsAny(k, ",=") {
					t.Fatalf("parsed %q into %q=%+v", s, k, a)
				}
			}
		}
		const marker = "☃SECRET☃"
		if strings.Contains(s, marker) {
			return
		}
		parts := strings.Split(s, ",")
		for i, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			vals := strings.Split(v, ":")
			for j, x := range vals {
				if strings.TrimSpace(x) != "" {
					vals[j] = marker
				}
			}
			parts[i] = k + "=" + strings.Join(vals, ":")
		}
		if _, err := ingest.ParseILinkApps(strings.Join(parts, ",")); err != nil && strings.Contains(err.Error(), marker) {
			t.Fatalf("error %q shows a token or secret", err)
		}
	})
}
