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
	_, err := VerifyMaximSecrets(appID, []string{secret}, h, body)
	return err
}

// VerifyMaximSecrets is VerifyMaxim with the secrets valid for the app during a rotation (current
// first): the signature may be any of them. It returns the index of the one that matched. Every
// secret is compared, in constant time.
func VerifyMaximSecrets(appID string, secrets []string, h http.Header, body []byte) (int, error) {
	sig := h.Get("signature")
	if sig == "" {
		return -1, fmt.Errorf("%w: signature", ErrMissingHeader)
	}
	matched := -1
	for i, secret := range secrets {
		if subtle.ConstantTimeCompare([]byte(secret), []byte(sig)) == 1 && matched < 0 {
			matched = i
		}
	}
	if matched < 0 {
		return -1, ErrSignature
	}
	if f, err := parseFields(body); err == nil {
		if id := f.str("appId"); id != "" && id != appID {
			return -1, fmt.Errorf("%w: body appId %q, path %q", ErrAppKeyMismatch, clip(id), appID)
		}
	}
	return matched, nil
}

// maxim serves POST /v1/maxim/{app_id}. Answer: 200 with an empty body once archived.
func (r *Receiver) maxim(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	start := r.now()
	appID := req.PathValue("app_id")
	const platform = event.SourceMaxim
	body, err := readBody(w, req, r.cfg.MaxBodyBytes)
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	secret, ok := r.cfg.MaximApps[appID]
	if !ok {
		r.reject(w, req, platform, "", fmt.Errorf("%w %q", ErrUnknownApp, appID))
		return
	}
	secrets := []string{secret}
	if prev, ok := r.cfg.MaximPrevious[appID]; ok {
		secrets = append(secrets, prev)
	}
	matched, err := VerifyMaximSecrets(appID, secrets, req.Header, body)
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.usedSecret(platform, appID, matched)
	if !r.admit(w, platform, appID) {
		return
	}
	r.accept(w, delivery{
		platform: platform, app: appID, req: req, body: body, start: start, began: began,
		normalize: NormalizeMaxim,
		typeLabel: fieldOf("type"),
		answer:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
	})
}
