package ingest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/imarchive/imarchive/event"
)

// VerifyMaxim checks a Maxim message-subscription POST: its "signature" header equals the secret set in
// the console (plain equality, in constant time), and the body's appId, when the body is a JSON object
// that has one, is the path's app_id. It returns nil or an error wrapping ErrMissingHeader,
// ErrSignature or ErrAppKeyMismatch.
func VerifyMaxim(appID, secret string, h http.Header, body []byte) error {
	sig := h.Get("signature")
	if sig == "" {
		return fmt.Errorf("%w: signature", ErrMissingHeader)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(sig)) != 1 {
		return ErrSignature
	}
	if f, err := parseFields(body); err == nil {
		if id := f.str("appId"); id != "" && id != appID {
			return fmt.Errorf("%w: body appId %q, path %q", ErrAppKeyMismatch, clip(id), appID)
		}
	}
	return nil
}

// maxim serves POST /v1/maxim/{app_id}. Answer: 200 with an empty body once archived.
func (r *Receiver) maxim(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	start := r.now()
	appID := req.PathValue("app_id")
	const platform = event.SourceMaxim
	body, err := readBody(w, req, r.cfg.MaxBodyBytes)
	if err != nil {
		r.reject(w, platform, "", err)
		return
	}
	secret, ok := r.cfg.MaximApps[appID]
	if !ok {
		r.reject(w, platform, "", fmt.Errorf("%w %q", ErrUnknownApp, appID))
		return
	}
	if err := VerifyMaxim(appID, secret, req.Header, body); err != nil {
		r.reject(w, platform, "", err)
		return
	}
	r.accept(w, delivery{
		platform: platform, app: appID, req: req, body: body, start: start, began: began,
		normalize: NormalizeMaxim,
		typeLabel: fieldOf("type"),
		answer:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
	})
}
