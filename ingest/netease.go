package ingest

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/imarchive/imarchive/event"
)

// netease serves POST /v1/netease/{appkey}: a QChat copy event, verified by CurTime, MD5 and CheckSum.
// Answers: 200 (empty) once archived, 401 forged or stale, 413 too large, 503 when Kafka did not
// acknowledge in time (the status that asks a client to try again later).
func (r *Receiver) netease(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	start := r.now()
	appKey := req.PathValue("appkey")
	const platform = event.SourceNetease
	body, err := readBody(w, req, r.cfg.MaxBodyBytes)
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	secret, ok := r.cfg.NeteaseApps[appKey]
	if !ok {
		r.reject(w, req, platform, "", fmt.Errorf("%w %q", ErrUnknownApp, appKey))
		return
	}
	secrets := []string{secret}
	if prev, ok := r.cfg.NeteasePrevious[appKey]; ok {
		secrets = append(secrets, prev)
	}
	matched, err := VerifyNeteaseSecrets(appKey, secrets, req.Header, body, start, r.cfg.Freshness)
	if err != nil {
		r.reject(w, req, platform, "", err)
		return
	}
	r.usedSecret(platform, appKey, matched)
	if !r.admit(w, platform, appKey) {
		return
	}
	// A request whose CheckSum was already delivered is a replay (or a resend that was not re-signed):
	// its records are in Kafka, so it gets the success answer and produces nothing.
	replayKey := platform + "\x00" + appKey + "\x00" + strings.ToLower(strings.TrimSpace(req.Header.Get("CheckSum")))
	if r.replays.seenRecently(replayKey) {
		r.replayed(w, platform, appKey, fieldOf("eventType")(body), func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) })
		return
	}
	r.accept(w, delivery{
		replayKey: replayKey,
		platform:  platform, app: appKey, req: req, body: body, start: start, began: began,
		normalize: NormalizeNetease,
		typeLabel: fieldOf("eventType"),
		answer:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
	})
}
