package ingest_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imarchive/imarchive/ingest"
)

func signedHeaders(secret string, body []byte, curTime time.Time) http.Header {
	ct := strconv.FormatInt(curTime.UnixMilli(), 10)
	md5hex, sum := ingest.NeteaseCheckSum(secret, body, ct)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("CurTime", ct)
	h.Set("MD5", md5hex)
	h.Set("CheckSum", sum)
	return h
}

func TestNeteaseCheckSumKnownValue(t *testing.T) {
	// SHA1("secret" + MD5("{}") + "1440570500855"), computed independently with Python hashlib.
	md5hex, sum := ingest.NeteaseCheckSum("secret", []byte("{}"), "1440570500855")
	if md5hex != "99914b932bd37a50b983c5e7c90ae93b" {
		t.Fatalf("md5 = %s", md5hex)
	}
	if sum != "89fd33b7f5f1b9a37bbbe996e66b9933d8968a27" {
		t.Fatalf("checksum = %s", sum)
	}
}

func TestVerifyNetease(t *testing.T) {
	const secret = "s3cret"
	now := time.UnixMilli(1646744308834)
	body := []byte(`{"eventType":"48","msgIdServer":"1"}`)
	window := 5 * time.Minute
	cases := []struct {
		name    string
		body    []byte
		headers func() http.Header
		want    error
	}{
		{"valid", body, func() http.Header { return signedHeaders(secret, body, now) }, nil},
		{"upper-case hex (CheckSum over the lower-case MD5)", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			h.Set("MD5", strings.ToUpper(h.Get("MD5")))
			h.Set("CheckSum", strings.ToUpper(h.Get("CheckSum")))
			return h
		}, nil},
		{"upper-case MD5 header, CheckSum over it as sent", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			upper := strings.ToUpper(h.Get("MD5"))
			h.Set("MD5", upper)
			h.Set("CheckSum", sha1hex(secret+upper+h.Get("CurTime")))
			return h
		}, nil},
		{"mixed-case MD5 header, CheckSum over it as sent", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			md5hex := h.Get("MD5")
			mixed := strings.ToUpper(md5hex[:16]) + md5hex[16:]
			h.Set("MD5", mixed)
			h.Set("CheckSum", strings.ToUpper(sha1hex(secret+mixed+h.Get("CurTime"))))
			return h
		}, nil},
		{"upper-case MD5 header, CheckSum over another case", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			md5hex := h.Get("MD5")
			h.Set("MD5", strings.ToUpper(md5hex))
			h.Set("CheckSum", sha1hex(secret+strings.ToUpper(md5hex[:16])+md5hex[16:]+h.Get("CurTime")))
			return h
		}, ingest.ErrChecksum},
		{"edge of window", body, func() http.Header { return signedHeaders(secret, body, now.Add(-window+time.Second)) }, nil},
		{"matching AppKey header", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			h.Set("AppKey", "app1")
			return h
		}, nil},
		{"wrong secret", body, func() http.Header { return signedHeaders("other", body, now) }, ingest.ErrChecksum},
		{"body changed after signing", []byte(`{"eventType":"48","msgIdServer":"2"}`), func() http.Header { return signedHeaders(secret, body, now) }, ingest.ErrBodyMD5},
		{"MD5 and body changed, old CheckSum", []byte(`{"x":1}`), func() http.Header {
			h := signedHeaders(secret, body, now)
			md5hex, _ := ingest.NeteaseCheckSum(secret, []byte(`{"x":1}`), h.Get("CurTime"))
			h.Set("MD5", md5hex)
			return h
		}, ingest.ErrChecksum},
		{"CurTime changed after signing", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			h.Set("CurTime", strconv.FormatInt(now.UnixMilli()+1, 10))
			return h
		}, ingest.ErrChecksum},
		{"stale", body, func() http.Header { return signedHeaders(secret, body, now.Add(-window-time.Second)) }, ingest.ErrStale},
		{"from the future", body, func() http.Header { return signedHeaders(secret, body, now.Add(window+time.Second)) }, ingest.ErrStale},
		{"no CheckSum", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			h.Del("CheckSum")
			return h
		}, ingest.ErrMissingHeader},
		{"no headers", body, func() http.Header { return http.Header{} }, ingest.ErrMissingHeader},
		{"other AppKey header", body, func() http.Header {
			h := signedHeaders(secret, body, now)
			h.Set("AppKey", "app2")
			return h
		}, ingest.ErrAppKeyMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ingest.VerifyNetease("app1", secret, c.headers(), c.body, now, window)
			if c.want == nil && err != nil {
				t.Fatalf("want nil, got %v", err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
		})
	}
}
