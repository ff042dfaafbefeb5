package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// seeds are JSON texts and near misses, the shapes the hot paths read.
var seeds = []string{
	`{"fromNick":"yx","clientPort":7260,"time":1646744308834,"body":"文本消息"}`,
	`{"a":[1,2,{"b":null}],"c":true,"d":false,"e":-0.5e+3}`, `{}`, ` { } `, `[]`, `null`, `"x"`, `1`,
	`{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":"\x"}`, `{"a":"\u12"}`,
	`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d"}`, `{"\u0074ime":1,"time":2}`, "{\"a\":\"\xff\"}", "{\"\xfe\":1}",
	`{"a":"tab	"}`, `{"a":"<&>\u2028"}`, `{"a":1}x`, `{"a":1} `, `{"a":[[[[[]]]]]}`, `{"a":tru}`, `{"a":nul}`,
	`{"a":"\/\b\f\n\r\t\\\""}`, `{"a":{"b":{"c":"d"}},"a":2}`, ` {"a" : [ 1 , 2 ] } `,
}

func FuzzValue(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := json.Valid(data)
		end, ok := Value(data, SkipSpace(data, 0))
		whole := ok && SkipSpace(data, end) == len(data)
		if whole && !valid {
			t.Fatalf("Value accepted %q, which encoding/json refuses", data)
		}
		if valid && !whole && len(data) < maxDepth {
			t.Fatalf("Value refused %q (at %d), which encoding/json accepts", data, end)
		}
	})
}

func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`"yx"`, `"文本消息"`, `"a\"b"`, `"\u00e9"`, `"tab\there"`, "\"\xff\"", `""`, `"a\\b"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ude00"`, `"\/\b\f"`, "\"\xed\xa0\x80\"", `"\u2028"`, `"a\'b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		var want string
		uerr := json.Unmarshal(lit, &want)
		isLit := len(lit) > 0 && lit[0] == '"' && lit[len(lit)-1] == '"'
		end, plain, ok := String(lit, 0)
		ok = ok && end == len(lit)
		switch {
		case ok && uerr != nil:
			t.Fatalf("String accepted %q, which encoding/json refuses: %v", lit, uerr)
		case !ok && uerr == nil && isLit:
			t.Fatalf("String refused %q, which encoding/json reads as %q", lit, want)
		case !ok:
			return
		}
		if plain && string(lit[1:len(lit)-1]) != want {
			t.Fatalf("String called %q plain, but encoding/json reads %q", lit, want)
		}
		got, uok := Unquote(lit)
		if !uok || got != want {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json reads %q", lit, got, uok, want)
		}
	})
}

func FuzzObject(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]json.RawMessage
		uerr := json.Unmarshal(data, &want)
		members, ok := Object(data, nil)
		if !ok {
			if uerr == nil && want != nil && len(data) < maxDepth {
				t.Fatalf("Object refused %q, which encoding/json reads as an object", data)
			}
			return
		}
		if uerr != nil || want == nil {
			t.Fatalf("Object accepted %q, which encoding/json does not read as an object (%v)", data, uerr)
		}
		got := map[string]json.RawMessage{}
		for _, m := range members {
			key, kok := Unquote(m.Key)
			if !kok {
				t.Fatalf("key %q of %q does not unquote", m.Key, data)
			}
			if m.KeyPlain && key != string(m.Key[1:len(m.Key)-1]) {
				t.Fatalf("key %q called plain, but reads %q", m.Key, key)
			}
			if m.ValuePlain {
				var text string
				if err := json.Unmarshal(m.Value, &text); err != nil || text != string(m.Value[1:len(m.Value)-1]) {
					t.Fatalf("value %q called plain, but reads %q (%v)", m.Value, text, err)
				}
			}
			got[key] = m.Value // the last of a repeated key, as encoding/json keeps it
		}
		if len(got) != len(want) {
			t.Fatalf("Object read %d keys of %q, encoding/json %d", len(got), data, len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("key %q of %q: Object %q, encoding/json %q", k, data, got[k], v)
			}
		}
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"yx", "文本消息", "a\"b\\c", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "<a&b>", "\u2028\u2029",
		"\xff\xfe", "\xed\xa0\x80", "é\xc3", ""} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(html)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := string(AppendString(nil, s, html)); got != want {
			t.Fatalf("AppendString(%q, html %v) = %s, encoding/json writes %s", s, html, got, want)
		}
	})
}
