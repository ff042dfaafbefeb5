// Package jsonx reads and writes the few JSON shapes of imarchive's hot paths — a callback's top-level
// object, the events topic's envelope — by hand, without reflection and with few allocations.
//
// It is written by hand because no library does the job at the cost the hot paths need: measured on
// the NetEase 48 body and the v2 envelope (BENCHMARKS.md), segmentio/encoding, goccy/go-json and
// encoding/json/v2 decode 2–3× faster than encoding/json, where these shapes need 5–10×.
//
// Every function answers exactly as encoding/json would, or says it cannot (ok false), and then the
// caller takes encoding/json's path, which also words the error. jsonx_fuzz_test.go holds each
// function to encoding/json's answers on every input the fuzzer finds.
package jsonx

import (
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is the deepest nesting Value follows before it gives up (ok false) and leaves the input to
// encoding/json, whose own limit (10000) words the error.
const maxDepth = 64

// isSpace reports the white space JSON allows between tokens.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipSpace returns the index of the first byte at or after i that is not JSON white space.
func SkipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// Value returns the end of the JSON value starting at data[i] (no white space before it), checked as
// encoding/json's scanner checks it. ok is false for anything that is not one valid value there.
func Value(data []byte, i int) (end int, ok bool) { return value(data, i, 0) }

func value(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; {
	case c == '"':
		end, _, ok := String(data, i)
		return end, ok
	case c == '{':
		if depth >= maxDepth {
			return i, false
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(data) || data[i] != '"' {
				return i, false
			}
			end, _, ok := String(data, i)
			if !ok {
				return i, false
			}
			i = SkipSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return i, false
			}
			if i, ok = value(data, SkipSpace(data, i+1), depth+1); !ok {
				return i, false
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case ',':
				i = SkipSpace(data, i+1)
			case '}':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '[':
		if depth >= maxDepth {
			return i, false
		}
		i = SkipSpace(data, i+1)
		if i < len(data) && data[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = value(data, i, depth+1); !ok {
				return i, false
			}
			i = SkipSpace(data, i)
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case ',':
				i = SkipSpace(data, i+1)
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return Number(data, i)
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	}
	return i, false
}

func literal(data []byte, i int, lit string) (int, bool) {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// Number returns the end of the JSON number starting at data[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func Number(data []byte, i int) (end int, ok bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i >= len(data) {
		return i, false
	}
	switch c := data[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i = digits(data, i+1)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

func digits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

// String returns the end of the JSON string literal starting at data[i] (its opening quote). plain is
// true when its text is exactly the bytes between its quotes: no escape and valid UTF-8.
func String(data []byte, i int) (end int, plain bool, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return i, false, false
	}
	plain = true
	ascii := true
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			if !ascii && plain {
				plain = utf8.Valid(data[i+1 : j])
			}
			return j + 1, plain, true
		case c == '\\':
			plain = false
			j++
			if j >= len(data) {
				return j, false, false
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-j < 5 || !isHex(data[j+1]) || !isHex(data[j+2]) || !isHex(data[j+3]) || !isHex(data[j+4]) {
					return j, false, false
				}
				j += 4
			default:
				return j, false, false
			}
		case c < 0x20:
			return j, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return len(data), false, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Unquote returns the text of a valid JSON string literal (quotes included) as encoding/json decodes
// it: escapes resolved, invalid UTF-8 and lone surrogates replaced by U+FFFD. ok is false when lit is
// not a string literal String accepts.
func Unquote(lit []byte) (string, bool) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return "", false
	}
	s := lit[1 : len(lit)-1]
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			if r >= len(s) {
				return "", false
			}
			switch s[r] {
			case '"', '\\', '/':
				b = append(b, s[r])
				r++
			case 'b':
				b = append(b, '\b')
				r++
			case 'f':
				b = append(b, '\f')
				r++
			case 'n':
				b = append(b, '\n')
				r++
			case 'r':
				b = append(b, '\r')
				r++
			case 't':
				b = append(b, '\t')
				r++
			case 'u':
				rr := getu4(s[r-1:])
				if rr < 0 {
					return "", false
				}
				r += 5
				if utf16.IsSurrogate(rr) {
					rr1 := getu4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != utf8.RuneError {
						r += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					rr = utf8.RuneError
				}
				b = utf8.AppendRune(b, rr)
			default:
				return "", false
			}
		case c == '"' || c < ' ':
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b), true
}

// getu4 decodes \uXXXX from the beginning of s, returning the hex value, or -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// Member is one member of an object: its key and its value as literals of the input.
type Member struct {
	Key   []byte // the key's string literal, quotes included
	Value []byte // the value's JSON, exactly as in the input
	// KeyPlain: the key's text is exactly Key without its quotes (String's plain); ValuePlain: the
	// value is a string whose text is exactly Value without its quotes.
	KeyPlain, ValuePlain bool
}

// Object reads a document that is one JSON object (white space around it allowed), appending its
// members, in order, to dst. ok is false for anything else, and for what it leaves to encoding/json
// (nesting deeper than maxDepth).
func Object(data []byte, dst []Member) ([]Member, bool) {
	i := SkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return dst, false
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return dst, SkipSpace(data, i+1) == len(data)
	}
	for {
		end, plain, ok := String(data, i)
		if !ok {
			return dst, false
		}
		key := data[i:end]
		i = SkipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return dst, false
		}
		i = SkipSpace(data, i+1)
		var vend int
		vplain := false
		if i < len(data) && data[i] == '"' {
			vend, vplain, ok = String(data, i)
		} else {
			vend, ok = value(data, i, 1)
		}
		if !ok {
			return dst, false
		}
		dst = append(dst, Member{Key: key, Value: data[i:vend], KeyPlain: plain, ValuePlain: vplain})
		i = SkipSpace(data, vend)
		if i >= len(data) {
			return dst, false
		}
		switch data[i] {
		case ',':
			i = SkipSpace(data, i+1)
		case '}':
			return dst, SkipSpace(data, i+1) == len(data)
		default:
			return dst, false
		}
	}
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string exactly as encoding/json writes it: '"' and '\\' escaped,
// \b \f \n \r \t, other control bytes as \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped,
// and, with escapeHTML, '<', '>' and '&' as \u003c, \u003e, \u0026.
func AppendString(dst []byte, s string, escapeHTML bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && (!escapeHTML || (b != '<' && b != '>' && b != '&')) {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
