package ingest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
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
	matched, err := VerifyMaximSignature(secrets, h)
	if err != nil {
		return -1, err
	}
	if err := VerifyMaximBody(appID, body); err != nil {
		return -1, err
	}
	return matched, nil
}

// VerifyMaximSignature is the part of VerifyMaximSecrets that needs no body: the "signature" header
// is one of the secrets (ErrMissingHeader, ErrSignature). The receiver checks it before reading a body.
func VerifyMaximSignature(secrets []string, h http.Header) (int, error) {
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
	return matched, nil
}

// VerifyMaximBody checks that the body's appId, when the body is a JSON object that has one, is the
// path's app_id (ErrAppKeyMismatch).
func VerifyMaximBody(appID string, body []byte) error {
	if id := normalize.Field(body, "appId"); id != "" && id != appID {
		return fmt.Errorf("%w: body appId %q, path %q", ErrAppKeyMismatch, clip(id), appID)
	}
	return nil
}

// maxim serves POST /v1/maxim/{app_id}. Answer: 200 with an empty body once archived. The length
// and the signature header are checked before the body is read or an in-flight slot is taken.
func (r *Receiver) maxim(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	start := r.now()
	appID := req.PathValue("app_id")
	const platform = event.SourceMaxim
	if err := r.checkLength(req); err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	secrets, known := r.secretsOf(r.cfg.MaximApps, r.cfg.MaximPrevious, appID)
	matched, err := VerifyMaximSignature(secrets, req.Header)
	if !known {
		err = fmt.Errorf("%w %q", ErrUnknownApp, appID) // answered as a bad signature is
	}
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.usedSecret(platform, appID, matched)
	if !r.admit(w, platform, appID) {
		return
	}
	release, ok := r.slot(w, req, platform)
	if !ok {
		return
	}
	defer release()
	body, err := r.readBody(w, req)
	if err == nil {
		err = VerifyMaximBody(appID, body)
	}
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.accept(w, delivery{
		platform: platform, app: appID, req: req, body: body, start: start, began: began,
		normalize: normalize.Maxim,
		typeLabel: fieldOf("type"),
		answer:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
	})
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
