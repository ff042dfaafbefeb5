package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/topics"
)

// Producer is what the receiver needs of a Kafka client; *kgo.Client is one.
type Producer interface {
	ProduceSync(ctx context.Context, rs ...*kgo.Record) kgo.ProduceResults
}

// Receiver serves the platforms' callback endpoints.
type Receiver struct {
	cfg     Config
	topics  topics.Config
	prod    Producer
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(r *Receiver) { r.now = now } }

// New builds a Receiver. It returns the configuration's validation error, if any.
func New(cfg Config, tc topics.Config, prod Producer, log *slog.Logger, reg prometheus.Registerer, opts ...Option) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	r := &Receiver{cfg: cfg, topics: tc, prod: prod, log: log, metrics: newMetrics(reg), now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Register adds the callback routes to mux.
func (r *Receiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/netease/{appkey}", r.netease)
}

func (r *Receiver) netease(w http.ResponseWriter, req *http.Request) {
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

	ev, nerr := NormalizeNetease(appKey, body, start)
	raw := rawRecord(r.topics.Raw(), platform, appKey, req, body, start, ev.EventID)
	recs := []*kgo.Record{raw}
	if nerr == nil {
		evRec, err := eventRecord(r.topics.Events(), &ev)
		if err != nil {
			nerr = err
		} else {
			recs = append(recs, evRec)
		}
	}
	if nerr != nil {
		// Authentic but not normalizable: the raw record is the archive; a retry would not help.
		r.log.Warn("callback kept raw, not normalized", "platform", platform, "app", appKey, "err", nerr)
	}

	if err := r.produce(req.Context(), recs); err != nil {
		r.metrics.callbacks.WithLabelValues(platform, ev.PlatformType, "kafka_unavailable").Inc()
		r.log.Error("callback not acknowledged by kafka; answering 503 so the platform retries",
			"platform", platform, "app", appKey, "err", err)
		http.Error(w, "temporarily unavailable, retry", http.StatusServiceUnavailable)
		return
	}
	r.metrics.ackLatency.WithLabelValues(platform).Observe(r.now().Sub(start).Seconds())
	outcome := "accepted"
	if nerr != nil {
		outcome = "unnormalized"
	}
	r.metrics.callbacks.WithLabelValues(platform, ev.PlatformType, outcome).Inc()
	w.WriteHeader(http.StatusOK)
}

// produce sends the records and waits for Kafka's acknowledgement of all of them, within AckTimeout.
func (r *Receiver) produce(ctx context.Context, recs []*kgo.Record) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.AckTimeout)
	defer cancel()
	var errs []error
	for _, res := range r.prod.ProduceSync(ctx, recs...) {
		if res.Err != nil {
			r.metrics.produceErrors.WithLabelValues(res.Record.Topic).Inc()
			errs = append(errs, fmt.Errorf("produce to %s: %w", res.Record.Topic, res.Err))
		}
	}
	return errors.Join(errs...)
}

// ErrBodyTooLarge is returned for a body over the limit (413).
var ErrBodyTooLarge = errors.New("request body too large")

func readBody(w http.ResponseWriter, req *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

// reject answers a request that is refused and produces nothing. The status is decided here only.
func (r *Receiver) reject(w http.ResponseWriter, platform, typ string, err error) {
	status, outcome := http.StatusBadRequest, "rejected_bad_request"
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		status, outcome = http.StatusRequestEntityTooLarge, "rejected_too_large"
	case errors.Is(err, ErrStale):
		status, outcome = http.StatusUnauthorized, "rejected_stale"
	case errors.Is(err, ErrUnknownApp), errors.Is(err, ErrMissingHeader), errors.Is(err, ErrBodyMD5),
		errors.Is(err, ErrChecksum), errors.Is(err, ErrAppKeyMismatch):
		status, outcome = http.StatusUnauthorized, "rejected_auth"
	}
	r.metrics.callbacks.WithLabelValues(platform, typ, outcome).Inc()
	r.log.Warn("callback rejected", "platform", platform, "status", status, "err", err)
	http.Error(w, err.Error(), status)
}

// Raw record headers, beside the HTTP headers (kept under "http.<Name>").
const (
	HeaderSource     = "imarchive.source"
	HeaderApp        = "imarchive.app"
	HeaderReceivedAt = "imarchive.received_at_ms"
	HeaderPath       = "imarchive.path"
	HeaderRemoteAddr = "imarchive.remote_addr"
	HeaderEventID    = "imarchive.event_id"
	HTTPHeaderPrefix = "http."
)

// rawRecord keeps the body exactly as received as the record value, and every request header.
func rawRecord(topic, source, app string, req *http.Request, body []byte, receivedAt time.Time, eventID string) *kgo.Record {
	hs := []kgo.RecordHeader{
		{Key: HeaderSource, Value: []byte(source)},
		{Key: HeaderApp, Value: []byte(app)},
		{Key: HeaderReceivedAt, Value: []byte(strconv.FormatInt(receivedAt.UnixMilli(), 10))},
		{Key: HeaderPath, Value: []byte(req.URL.Path)},
		{Key: HeaderRemoteAddr, Value: []byte(req.RemoteAddr)},
	}
	if eventID != "" {
		hs = append(hs, kgo.RecordHeader{Key: HeaderEventID, Value: []byte(eventID)})
	}
	for name, vals := range req.Header {
		for _, v := range vals {
			hs = append(hs, kgo.RecordHeader{Key: HTTPHeaderPrefix + name, Value: []byte(v)})
		}
	}
	key := eventID
	if key == "" {
		key = event.ID(source, app, "raw", string(body))
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: body, Headers: hs, Timestamp: receivedAt}
}

func eventRecord(topic string, e *event.Event) (*kgo.Record, error) {
	v, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return &kgo.Record{Topic: topic, Key: []byte(e.Key()), Value: v}, nil
}
