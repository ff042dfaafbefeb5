package ingest

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// netease serves POST /v1/netease/{appkey}: a QChat copy event, verified by CurTime, MD5 and CheckSum.
// Answers: 200 (empty) once archived, 401 forged or stale, 413 too large, 503 when Kafka did not
// acknowledge in time (the status that asks a client to try again later).
//
// The order is what keeps an unauthenticated client cheap: the declared length and the headers'
// CheckSum (which covers the MD5 header, not the body) are checked before a byte of the body is
// read or an in-flight slot is taken; a replayed CheckSum is answered before the app's rate limit is
// spent; only then is the body read, within its own deadline, and tied to the MD5 header.
func (r *Receiver) netease(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	start := r.now()
	appKey := req.PathValue("appkey")
	const platform = event.SourceNetease
	if err := r.checkLength(req); err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	secrets, known := r.secretsOf(r.cfg.NeteaseApps, r.cfg.NeteasePrevious, appKey)
	matched, err := VerifyNeteaseHeaders(appKey, secrets, req.Header, start, r.cfg.Freshness)
	if !known {
		// Checked against a secret nobody has, so that an unknown app costs and answers what a bad
		// CheckSum does: no app enumeration.
		err = fmt.Errorf("%w %q", ErrUnknownApp, appKey)
	}
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.usedSecret(platform, appKey, matched)
	// A request whose CheckSum was already delivered is a replay (or a resend that was not re-signed):
	// its records are in Kafka, so it gets the success answer and produces nothing. It is checked
	// before the rate limit, so that replays cannot spend the app's budget.
	replayKey := platform + "\x00" + appKey + "\x00" + strings.ToLower(strings.TrimSpace(req.Header.Get("CheckSum")))
	if r.replays.seenRecently(replayKey) {
		hangUp(w)
		r.replayed(w, platform, appKey, "", func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) })
		return
	}
	if !r.admit(w, platform, appKey) {
		return
	}
	release, ok := r.slot(w, req, platform)
	if !ok {
		return
	}
	defer release()
	body, err := r.readBody(w, req)
	if err == nil {
		err = VerifyNeteaseBody(req.Header, body)
	}
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.accept(w, delivery{
		replayKey: replayKey,
		platform:  platform, app: appKey, req: req, body: body, start: start, began: began,
		normalize: normalize.Netease,
		typeLabel: fieldOf("eventType"),
		answer:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
	})
}

// secretsOf are an app's secrets in current and previous, current first; for an unknown app, a
// random one nobody has (known is false), so that checking it costs what checking a known app does.
func (r *Receiver) secretsOf(current, previous map[string]string, app string) (secrets []string, known bool) {
	secret, ok := current[app]
	if !ok {
		return []string{r.nobody}, false
	}
	secrets = []string{secret}
	if prev, ok := previous[app]; ok {
		secrets = append(secrets, prev)
	}
	return secrets, true
}
