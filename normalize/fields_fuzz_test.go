package normalize

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

// FuzzParseFieldsMatchesUnmarshal: the hand-written reader of a body's fields gives what
// encoding/json gives (parseFieldsStd) — the same keys, each with the same JSON and text, and the
// same canonical encoding — for every body it takes; a body it does not take is one encoding/json
// refuses, or nests deeper than the reader follows.
func FuzzParseFieldsMatchesUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"fromNick":"yx","clientPort":7260,"time":1646744308834,"body":"文本消息","antispam":"false"}`,
		`{"a":[1,2,{"b":null}],"c":true,"d":false,"e":-0.5e+3,"f":null}`, `{}`, `null`, `[]`, `"x"`,
		`{"\u0074ime":1,"time":2}`, "{\"a\":\"\xff\"}", "{\"\xfe\":1}", `{"a":"<&>\u2028"}`, `{" time":1}`,
		`{"a":"x\ny","b":"\ud83d\ude00"}`, `{"a":1}x`, `{"roleIdPriority":{"2":1, "10":"3"}}`, `{"z":1,"a":"<"}`,
		"{\"a\":\"\u2028\"}", `{"b":"1","a":2,"A":3,"é":4}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, werr := parseFieldsStd(body)
		got, ok := parseFieldsFast(body)
		if !ok {
			var probe map[string]json.RawMessage
			if werr == nil && len(body) < 64 && json.Unmarshal(body, &probe) == nil {
				t.Fatalf("the reader refused %q, which encoding/json reads", body)
			}
			return
		}
		if werr != nil {
			t.Fatalf("the reader took %q, which encoding/json refuses: %v", body, werr)
		}
		if len(got.all) != len(want.all) || len(got.text) != len(want.text) || got.spaced != want.spaced {
			t.Fatalf("%q: reader %d fields (spaced %v), encoding/json %d (spaced %v)", body, len(got.all), got.spaced, len(want.all), want.spaced)
		}
		for _, w := range want.all {
			raw, ok := got.raw(w.key)
			if !ok || string(raw) != string(w.raw) || got.str(w.key) != w.text || got.text[w.key] != want.text[w.key] {
				t.Fatalf("%q: field %q: reader %q %q, encoding/json %q %q", body, w.key, raw, got.str(w.key), w.raw, w.text)
			}
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		w, _ := json.Marshal(m)
		if g := got.canonical(); string(g) != string(w) {
			t.Fatalf("%q: canonical: %s, json.Marshal %s", body, g, w)
		}
	})
}
