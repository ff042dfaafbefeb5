package audit_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/compliance/audit"
	"github.com/imarchive/imarchive/pipeline"
)

// TestLinkSpec computes a chain hash the way audit/doc.go specifies it, byte by byte, independently
// of Link, and checks Link and the golden value in testdata agree.
func TestLinkSpec(t *testing.T) {
	prev := strings.Repeat("ab", 32)
	payload := audit.PayloadDigest([]byte(`{"eventType":"48","body":"你好"}`))
	headers := strings.Repeat("0f", 32)
	var buf []byte
	for _, h := range []string{prev} {
		b, _ := hex.DecodeString(h)
		buf = append(buf, b...)
	}
	buf = binary.BigEndian.AppendUint32(buf, 7)
	buf = binary.BigEndian.AppendUint64(buf, 123456789)
	for _, h := range []string{payload, headers} {
		b, _ := hex.DecodeString(h)
		buf = append(buf, b...)
	}
	sum := sha256.Sum256(buf)
	want := hex.EncodeToString(sum[:])

	got, err := audit.Link(prev, 7, 123456789, payload, headers)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Link = %s, the specification gives %s", got, want)
	}
	golden, err := os.ReadFile("testdata/link.golden")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(golden)) != got {
		t.Errorf("Link changed: %s, testdata/link.golden has %s (a changed hash breaks every chain already written)", got, golden)
	}
	// Every input matters.
	for name, alt := range map[string]func() (string, error){
		"prev":      func() (string, error) { return audit.Link(audit.GenesisHash, 7, 123456789, payload, headers) },
		"partition": func() (string, error) { return audit.Link(prev, 8, 123456789, payload, headers) },
		"offset":    func() (string, error) { return audit.Link(prev, 7, 123456790, payload, headers) },
		"payload":   func() (string, error) { return audit.Link(prev, 7, 123456789, audit.PayloadDigest(nil), headers) },
		"headers":   func() (string, error) { return audit.Link(prev, 7, 123456789, payload, audit.GenesisHash) },
	} {
		h, err := alt()
		if err != nil || h == got {
			t.Errorf("changing %s gives %s (err %v): the hash must change", name, h, err)
		}
	}
	for _, bad := range []string{"", "zz", strings.Repeat("a", 63), strings.Repeat("a", 66)} {
		if _, err := audit.Link(bad, 0, 0, payload, headers); !errors.Is(err, audit.ErrBadHash) {
			t.Errorf("prev %q: want ErrBadHash, got %v", bad, err)
		}
	}
}

// TestHeadersDigest: every field counts, map order does not, and shifting bytes between fields
// changes the digest (the length prefixes).
func TestHeadersDigest(t *testing.T) {
	base := pipeline.RawRow{Source: "netease_qchat", App: "a", ReceivedAtMs: 1646741485056, EventID: "e", RawKey: "k", Path: "/v1/netease/a",
		RemoteAddr: "1.2.3.4:5", HTTPHeaders: map[string]string{"Curtime": "1", "Md5": "x"}, Meta: map[string]string{"m": "v"},
		Body: []byte("not part of the headers")}
	d := audit.HeadersDigest(base)
	same := base
	same.HTTPHeaders = map[string]string{"Md5": "x", "Curtime": "1"}
	same.Body = []byte("another body")
	if audit.HeadersDigest(same) != d {
		t.Error("map order or the body changed the headers digest")
	}
	for name, mod := range map[string]func(r *pipeline.RawRow){
		"source":      func(r *pipeline.RawRow) { r.Source = "ilink" },
		"app":         func(r *pipeline.RawRow) { r.App = "b" },
		"received":    func(r *pipeline.RawRow) { r.ReceivedAtMs++ },
		"event_id":    func(r *pipeline.RawRow) { r.EventID = "f" },
		"key":         func(r *pipeline.RawRow) { r.RawKey = "l" },
		"path":        func(r *pipeline.RawRow) { r.Path = "/v1/netease/b" },
		"remote":      func(r *pipeline.RawRow) { r.RemoteAddr = "1.2.3.4:6" },
		"http value":  func(r *pipeline.RawRow) { r.HTTPHeaders = map[string]string{"Curtime": "2", "Md5": "x"} },
		"http added":  func(r *pipeline.RawRow) { r.HTTPHeaders = map[string]string{"Curtime": "1", "Md5": "x", "X": ""} },
		"meta":        func(r *pipeline.RawRow) { r.Meta = map[string]string{"m": "w"} },
		"meta→http":   func(r *pipeline.RawRow) { r.Meta = map[string]string{}; r.HTTPHeaders["m"] = "v" },
		"shift bytes": func(r *pipeline.RawRow) { r.App, r.EventID = "ae", "" },
	} {
		r := base
		r.HTTPHeaders = map[string]string{"Curtime": "1", "Md5": "x"}
		r.Meta = map[string]string{"m": "v"}
		mod(&r)
		if audit.HeadersDigest(r) == d {
			t.Errorf("%s: digest unchanged", name)
		}
	}
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("Ab", 32)
	a, err := audit.ParseAnchor("2:41:" + h)
	if err != nil || a.Partition != 2 || a.Offset != 41 || a.Hash != strings.ToLower(h) {
		t.Fatalf("got %+v, %v", a, err)
	}
	if a.String() != "2:41:"+strings.ToLower(h) {
		t.Errorf("String() = %s", a)
	}
	for _, bad := range []string{"", "1:2", "x:1:" + h, "1:y:" + h, "1:2:abc", "1:2:" + h + ":3"} {
		if _, err := audit.ParseAnchor(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func FuzzParseAnchor(f *testing.F) {
	for _, s := range []string{"0:0:" + audit.GenesisHash, "2:41:" + strings.Repeat("ab", 32), "", ":::", "-1:-1:" + audit.GenesisHash} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := audit.ParseAnchor(s)
		if err != nil {
			return
		}
		back, err := audit.ParseAnchor(a.String())
		if err != nil || back != a {
			t.Fatalf("%q: parsed %+v, which prints as %q and parses back as %+v, %v", s, a, a.String(), back, err)
		}
	})
}
