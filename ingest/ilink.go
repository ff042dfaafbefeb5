package ingest

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// ErrSignature is a signature that does not match (iLink handshake, Maxim signature header): 401.
var ErrSignature = fmt.Errorf("signature does not match")

// ILinkSignature returns the two signatures the iLink manual (000 §3.1) describes for the GET
// handshake, lower-case hex: its prose says MD5 over token, timestamp and echostr sorted
// lexicographically and concatenated; its Java and PHP samples MD5 token+timestamp+echostr as given.
func ILinkSignature(token, timestamp, echostr string) (sorted, concatenated string) {
	parts := []string{token, timestamp, echostr}
	sort.Strings(parts)
	s := md5.Sum([]byte(strings.Join(parts, "")))
	c := md5.Sum([]byte(token + timestamp + echostr))
	return hex.EncodeToString(s[:]), hex.EncodeToString(c[:])
}

// VerifyILinkSignature reports whether signature is either reading of the manual's rule (see
// ILinkSignature), comparing hex case-insensitively and in constant time.
func VerifyILinkSignature(token, timestamp, echostr, signature string) bool {
	sorted, concatenated := ILinkSignature(token, timestamp, echostr)
	a, b := hexEqual(sorted, signature), hexEqual(concatenated, signature)
	return a || b
}

// ilinkAuth checks the client address against the allow-list, then the path's appkey and secret
// (constant time; during a rotation the current and the previous secret are both accepted). It
// returns the app's tokens (current first) for the handshake and the index of the secret that
// matched. Every failure wraps ErrForbidden (403) and is answered alike: an address outside the
// allow-list is refused before the secret is looked at, so the answer never tells an outsider that
// the secret was right.
func (r *Receiver) ilinkAuth(req *http.Request) ([]string, int, error) {
	if len(r.cfg.ILinkAllowIPs) > 0 {
		addr, ok := r.clientAddr(req)
		if !ok || !allowed(r.cfg.ILinkAllowIPs, addr) {
			return nil, -1, fmt.Errorf("%w: client address %s not in the iLink allow-list", ErrForbidden, r.clientAddrString(req))
		}
	}
	appKey := req.PathValue("appkey")
	apps := r.ilinkApps(appKey)
	given := []byte(req.PathValue("secret"))
	matched := -1
	for i, app := range apps {
		if subtle.ConstantTimeCompare([]byte(app.Secret), given) == 1 && matched < 0 {
			matched = i
		}
	}
	if matched < 0 {
		return nil, -1, fmt.Errorf("%w: unknown ilink app or wrong path secret", ErrForbidden)
	}
	if apps[matched].Secret == apps[0].Secret {
		matched = 0 // a rotation of the token only: the path secret is the current one
	}
	tokens := make([]string, len(apps))
	for i, a := range apps {
		tokens[i] = a.Token
	}
	return tokens, matched, nil
}

// ilinkApps lists an app's current and, during a rotation, previous token and secret.
func (r *Receiver) ilinkApps(appKey string) []ILinkApp {
	app, ok := r.cfg.ILinkApps[appKey]
	if !ok {
		return nil
	}
	out := []ILinkApp{app}
	if prev, ok := r.cfg.ILinkPrevious[appKey]; ok {
		out = append(out, prev)
	}
	return out
}

// ilinkHandshake serves GET /v1/ilink/{appkey}/{secret}: the URL verification of set_config (manual
// §3.1). echostr is answered verbatim when signature matches the app's token, an empty body otherwise
// (401). Nothing is produced.
func (r *Receiver) ilinkHandshake(w http.ResponseWriter, req *http.Request) {
	const platform = event.SourceILink
	tokens, secretIdx, err := r.ilinkAuth(req)
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	q := req.URL.Query()
	echostr := q.Get("echostr")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	matched := -1
	for i, token := range tokens {
		if VerifyILinkSignature(token, q.Get("timestamp"), echostr, q.Get("signature")) && matched < 0 {
			matched = i
		}
	}
	if matched < 0 {
		r.metrics.callbacks.WithLabelValues(platform, "", outcomeHandshakeFail).Inc()
		r.log.Warn("ilink URL verification with a bad signature", "app", req.PathValue("appkey"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.usedSecret(platform, req.PathValue("appkey"), max(matched, secretIdx))
	r.metrics.callbacks.WithLabelValues(platform, "", outcomeHandshake).Inc()
	r.log.Info("ilink URL verification answered", "app", req.PathValue("appkey"))
	io.WriteString(w, echostr)
}

// ilinkNoSecret serves /v1/ilink/{appkey} without the secret segment: 403.
func (r *Receiver) ilinkNoSecret(w http.ResponseWriter, req *http.Request) {
	r.reject(w, req, event.SourceILink, "", fmt.Errorf("%w: the callback path needs its secret, /v1/ilink/{appkey}/{secret}", ErrForbidden))
}

// ilink serves POST /v1/ilink/{appkey}/{secret}: a pushed message or status (manual §4). iLink POSTs
// carry no signature; the secret path segment authenticates them. Answer: {"code":0} once archived.
func (r *Receiver) ilink(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	start := r.now()
	const platform = event.SourceILink
	_, secretIdx, err := r.ilinkAuth(req)
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.usedSecret(platform, req.PathValue("appkey"), secretIdx)
	if err := r.checkLength(req); err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	if !r.admit(w, platform, req.PathValue("appkey")) {
		return
	}
	release, ok := r.slot(w, req, platform)
	if !ok {
		return
	}
	defer release()
	body, err := r.readBody(w, req)
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.accept(w, delivery{
		platform: platform, app: req.PathValue("appkey"), req: req, body: body, start: start, began: began,
		normalize: normalize.ILink,
		typeLabel: fieldOf("msg_type"),
		answer: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"code":0}`)
		},
	})
}
