package ingest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/kafka"
)

// ErrEventIDConflict is the dead-letter reason of a verified delivery whose event_id was delivered
// before with a different body.
var ErrEventIDConflict = errors.New("event_id conflict: the same event_id was delivered with a different body")

// conflict keeps a verified delivery whose event_id was delivered before with another body: its raw
// record (so every verified delivery has its receipt) and a dead letter naming both bodies' hashes;
// no event, so the first delivery stays what analysts see until someone decides. It is an alert —
// imarchive_ingest_event_id_conflicts_total and an error in the log — never a silent duplicate:
// whoever knows a static credential (a Maxim signature, an iLink path secret) can send a forgery
// with a real message id ahead of the genuine callback, and this is where that shows. The platform
// gets its success answer once both records are acknowledged.
func (r *Receiver) conflict(ctx context.Context, w http.ResponseWriter, d delivery, typ, key, eventID string, first, sum bodySum) {
	receipt := newReceipt()
	raw := rawRecord(r.topics.Raw(), d, key, eventID, receipt)
	reason := fmt.Errorf("%w (first sha256 %s, this %s)", ErrEventIDConflict, hex.EncodeToString(first[:]), hex.EncodeToString(sum[:]))
	dl := deadLetterRecord(r.topics.DeadLetter(), raw, reason)
	dl.Headers = append(dl.Headers,
		kgo.RecordHeader{Key: kafka.HeaderBodySHA256, Value: []byte(hex.EncodeToString(sum[:]))},
		kgo.RecordHeader{Key: kafka.HeaderFirstBodySHA256, Value: []byte(hex.EncodeToString(first[:]))})
	setHeader(dl, kafka.HeaderStage, "ingest.dedupe")
	recs := []*kgo.Record{raw, dl}
	r.sign(recs)
	r.metrics.conflicts.WithLabelValues(d.platform).Inc()
	r.log.Error("event_id delivered again with a different body: kept raw and dead-lettered, not taken as a duplicate (a forgery with a real id, or the genuine callback after one)",
		"platform", d.platform, "app", d.app, "event_id", eventID, "first_body_sha256", hex.EncodeToString(first[:]), "body_sha256", hex.EncodeToString(sum[:]))
	if _, err := r.deliver(ctx, d, receipt, recs); err != nil {
		r.refuse(w, d, typ, err)
		return
	}
	r.rememberSignature(d)
	r.metrics.callbacks.WithLabelValues(d.platform, typ, outcomeConflict).Inc()
	d.answer(w)
}

// setHeader sets the first header named key (adding it when there is none).
func setHeader(rec *kgo.Record, key, value string) {
	for i := range rec.Headers {
		if rec.Headers[i].Key == key {
			rec.Headers[i].Value = []byte(value)
			return
		}
	}
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: key, Value: []byte(value)})
}

// sign signs the records of a delivery that are not events (those are signed as they are built),
// when record keys are configured.
func (r *Receiver) sign(recs []*kgo.Record) {
	for _, rec := range recs {
		if rec.Topic != r.topics.Events() {
			r.topics.Auth.Sign(rec)
		}
	}
}
