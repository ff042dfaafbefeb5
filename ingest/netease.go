package ingest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/imarchive/imarchive/event"
)

// netease serves POST /v1/netease/{appkey}: a QChat copy event, verified by CurTime, MD5 and CheckSum.
// Answers: 200 (empty) once archived, 401 forged or stale, 413 too large, 503 when Kafka did not
// acknowledge in time — never 500, which NetEase counts as delivered and does not retry.
func (r *Receiver) netease(w http.ResponseWriter, req *http.Request) {
	began := time.Now()
	start := r.now()
	appKey := req.PathValue("appkey")
	const platform = event.SourceNetease
	body, err := readBody(w, req, r.cfg.MaxBodyBytes)
	if err != nil {
		r.reject(w, platform, "", err)
		return
	}
	secret, ok := r.cfg.NeteaseApps[appKey]
	if !ok {
		r.reject(w, platform, "", fmt.Errorf("%w %q", ErrUnknownApp, appKey))
		return
	}
	if err := VerifyNetease(appKey, secret, req.Header, body, start, r.cfg.Freshness); err != nil {
		r.reject(w, platform, "", err)
		return
	}
	r.accept(w, delivery{
		platform: platform, app: appKey, req: req, body: body, start: start, began: began,
		normalize: NormalizeNetease,
		typeLabel: fieldOf("eventType"),
		answer:    func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) },
	})
}
