package ingest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/normalize"
)

// Producer is what the receiver needs of a Kafka client; *kgo.Client is one. TryProduce never
// blocks: a full buffer fails the record at once (kgo.ErrMaxBuffered).
type Producer interface {
	TryProduce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
}

// Receiver serves the platforms' callback endpoints.
type Receiver struct {
	cfg     Config
	topics  kafka.Config
	prod    Producer
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	dedupe  *dedupe
	// replays remembers the signatures (NetEase CheckSum) of delivered requests for twice the
	// freshness window: a request replayed with the same signature produces nothing.
	replays  *dedupe
	limiter  *rateLimiter
	inflight chan struct{} // a slot per authenticated callback being handled (MaxInFlight); nil: no bound
	nobody   string        // a random secret no app has: what an unknown app is checked against

	spool *spool.Spool // nil: no spool, Kafka or 503
	// late holds, by receipt, the produce of a callback that was spooled while its produce was still
	// in flight: the forwarder sends the spooled copy only if that produce fails.
	late sync.Map // receipt → *produce
	// iLinkHold is how long after arrival a refused iLink push is answered (past its 5 s, so it retries).
	iLinkHold time.Duration
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithClock replaces time.Now for the platform-facing clock: received_at, CurTime freshness, the
// dedupe and replay windows and the rate limiter's refill (tests). Deadlines for Kafka's acknowledgement always use the real clock.
func WithClock(now func() time.Time) Option { return func(r *Receiver) { r.now = now } }

// WithSpool gives the receiver a spool: a callback Kafka does not acknowledge within SpoolAfter is
// written to it and answered with success, and while it holds records every callback goes through
// it. Run Forward to drain it.
func WithSpool(s *spool.Spool) Option { return func(r *Receiver) { r.spool = s } }

// ILinkSilence is how long ET-iLink's push server waits for an answer before it drops the connection
// and retries (manual 000 §2.1: five seconds, three retries; any answer ends it).
const ILinkSilence = 5 * time.Second

// WithILinkHold sets how long after arrival a refused iLink push is answered (default ILinkSilence
// + 1 s: past the platform's wait, so that it retries). For tests.
func WithILinkHold(d time.Duration) Option { return func(r *Receiver) { r.iLinkHold = d } }

// New builds a Receiver. It returns the configuration's validation error, if any.
func New(cfg Config, tc kafka.Config, prod Producer, log *slog.Logger, reg prometheus.Registerer, opts ...Option) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	r := &Receiver{cfg: cfg, topics: tc, prod: prod, log: log, metrics: newMetrics(reg), now: time.Now,
		iLinkHold: ILinkSilence + time.Second}
	for _, o := range opts {
		o(r)
	}
	r.registerSpoolGauges(reg)
	clock := func() time.Time { return r.now() }
	r.dedupe = newDedupe(cfg.DedupeWindow, cfg.DedupeSize, clock, r.metrics.dedupeHooks())
	replaySize := cfg.DedupeSize
	if replaySize <= 0 {
		replaySize = DefaultConfig().DedupeSize
	}
	r.replays = newDedupe(2*cfg.Freshness, replaySize, clock, dedupeHooks{})
	r.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst, clock)
	r.nobody = rand.Text()
	if cfg.MaxInFlight > 0 {
		r.inflight = make(chan struct{}, cfg.MaxInFlight)
	}
	return r, nil
}

// Register adds the callback routes to mux. Each platform's routes exist whether or not apps of it are
// configured; an unconfigured app is refused like an unknown one.
func (r *Receiver) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/netease/{appkey}", r.netease)
	mux.HandleFunc("/v1/netease/{appkey}", r.wrongMethod(event.SourceNetease, "POST"))

	mux.HandleFunc("GET /v1/ilink/{appkey}/{secret}", r.ilinkHandshake)
	mux.HandleFunc("POST /v1/ilink/{appkey}/{secret}", r.ilink)
	mux.HandleFunc("/v1/ilink/{appkey}/{secret}", r.wrongMethod(event.SourceILink, "GET, POST"))
	mux.HandleFunc("/v1/ilink/{appkey}", r.ilinkNoSecret)
	mux.HandleFunc("/v1/ilink/{appkey}/{$}", r.ilinkNoSecret)

	mux.HandleFunc("POST /v1/maxim/{app_id}", r.maxim)
	mux.HandleFunc("/v1/maxim/{app_id}", r.wrongMethod(event.SourceMaxim, "POST"))
}

// delivery is one authenticated callback on its way to Kafka.
type delivery struct {
	platform  string
	app       string
	req       *http.Request
	body      []byte
	start     time.Time // platform-facing clock: received_at
	began     time.Time // real clock: arrival, for the ack latency and the deadline
	normalize normalize.Func
	typeLabel func(body []byte) string // the platform type for metrics when normalization failed
	answer    func(w http.ResponseWriter)
	replayKey string // the request's signature, remembered once delivered ("" for platforms without one)
	client    string // the client's address as a trusted proxy told it; "" when not through one
}

// accept normalizes, dedupes, produces and answers one authenticated callback. The platform gets its
// success answer only once Kafka acknowledged the raw record and the event (or the dead letter); a
// retry of a delivery already acknowledged gets it without producing anything.
func (r *Receiver) accept(w http.ResponseWriter, d delivery) {
	if peer, ok := parseHostAddr(d.req.RemoteAddr); ok && allowed(r.cfg.TrustedProxies, peer) {
		d.client = r.clientAddrString(d.req)
	}
	ev, nerr := d.normalize(d.app, d.body, d.start)
	typ := ev.PlatformType
	key := ev.EventID
	if nerr != nil {
		typ = d.typeLabel(d.body)
		key = event.ID(d.platform, d.app, "raw", string(d.body))
	}
	typ = typeLabel(d.platform, typ)

	// The answer is due within AckTimeout of arrival, whatever the platform's connection does meanwhile.
	ctx, cancel := context.WithDeadline(context.WithoutCancel(d.req.Context()), d.began.Add(r.cfg.AckTimeout))
	defer cancel()
	sum := bodySum(sha256.Sum256(d.body))
	owner, dup, first, err := r.dedupe.acquireBody(ctx, key, sum)
	if err != nil {
		r.unavailable(w, d, typ, fmt.Errorf("waiting for the first delivery of the same event: %w", err))
		return
	}
	if dup == dupConflict {
		r.conflict(ctx, w, d, typ, key, ev.EventID, first, sum)
		return
	}
	if !owner {
		r.rememberSignature(d)
		r.metrics.duplicates.WithLabelValues(d.platform, dup).Inc()
		r.metrics.callbacks.WithLabelValues(d.platform, typ, outcomeDuplicate).Inc()
		r.log.Debug("duplicate callback: already delivered", "platform", d.platform, "app", d.app, "key", key, "state", dup)
		d.answer(w)
		return
	}
	delivered := false
	defer func() { r.dedupe.release(key, delivered) }()

	receipt := newReceipt()
	raw := rawRecord(r.topics.Raw(), d, key, ev.EventID, receipt)
	recs := []*kgo.Record{raw}
	outcome := outcomeAccepted
	if nerr == nil {
		ev.RawKey = key
		evRec, err := r.topics.EventRecord(&ev)
		if err == nil && !r.topics.Fits(evRec) {
			err = fmt.Errorf("%w: %d bytes, the limit is %d (IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES)", kafka.ErrRecordTooLarge, kafka.EncodedSize(evRec), r.topics.MaxMessageBytes)
		}
		if err != nil {
			nerr = err
		} else {
			recs = append(recs, evRec)
		}
	}
	if nerr != nil {
		// Authentic but not normalizable: archived raw and dead-lettered with the reason; a retry
		// would not help, so the platform gets its success answer.
		outcome = outcomeDeadLetter
		recs = append(recs, deadLetterRecord(r.topics.DeadLetter(), raw, nerr))
		r.log.Warn("callback kept raw and dead-lettered, not normalized", "platform", d.platform, "app", d.app, "type", typ, "err", nerr)
	}
	r.sign(recs)
	spooled, err := r.deliver(ctx, d, receipt, recs)
	if err != nil {
		r.refuse(w, d, typ, err)
		return
	}
	delivered = true
	r.rememberSignature(d)
	if spooled {
		r.metrics.spoolLatency.WithLabelValues(d.platform).Observe(time.Since(d.began).Seconds())
		r.metrics.callbacks.WithLabelValues(d.platform, typ, outcomeSpooled).Inc()
	} else {
		r.metrics.ackLatency.WithLabelValues(d.platform).Observe(time.Since(d.began).Seconds())
		r.metrics.callbacks.WithLabelValues(d.platform, typ, outcome).Inc()
	}
	d.answer(w)
}

// rememberSignature records that the request's signature was delivered, so a replay of it produces
// nothing.
func (r *Receiver) rememberSignature(d delivery) {
	if d.replayKey != "" {
		r.replays.release(d.replayKey, true)
	}
}

// unavailable answers a callback that could not be taken (Kafka did not acknowledge it in time and
// no spool took it, or the wait for its first delivery outlasted the deadline), so that the platform
// retries: 503. iLink retries only on silence (manual
// 000 §2.1: any answer ends it), so its answer is withheld until past its five seconds.
func (r *Receiver) unavailable(w http.ResponseWriter, d delivery, typ string, err error) {
	r.metrics.callbacks.WithLabelValues(d.platform, typ, outcomeKafka).Inc()
	r.log.Error("callback not acknowledged by kafka; answering 503 so the platform retries",
		"platform", d.platform, "app", d.app, "err", err)
	r.retryLater(w, d)
}

// refuse answers a callback that neither Kafka nor the spool took.
func (r *Receiver) refuse(w http.ResponseWriter, d delivery, typ string, err error) {
	if errors.Is(err, spool.ErrFull) || errors.Is(err, spool.ErrBroken) || errors.Is(err, spool.ErrClosed) {
		r.metrics.callbacks.WithLabelValues(d.platform, typ, outcomeSpoolFull).Inc()
		r.log.Error("callback refused: kafka did not acknowledge it and the spool cannot take it; the platform must retry",
			"platform", d.platform, "app", d.app, "spool", r.spool.Dir(), "err", err)
		r.retryLater(w, d)
		return
	}
	r.unavailable(w, d, typ, err)
}

// retryLater answers 503, after withholding any answer from iLink until past its silence limit.
func (r *Receiver) retryLater(w http.ResponseWriter, d delivery) {
	if d.platform == event.SourceILink {
		t := time.NewTimer(time.Until(d.began.Add(r.iLinkHold)))
		select {
		case <-t.C:
		case <-d.req.Context().Done(): // the platform gave up, as it should
			t.Stop()
		}
	}
	w.Header().Set("Retry-After", "1")
	http.Error(w, "temporarily unavailable, retry", http.StatusServiceUnavailable)
}

// Errors of the iLink path secret and source address: 403, nothing produced.
var (
	ErrForbidden = errors.New("forbidden")
)

// reject answers a request that is refused and produces nothing. The status is decided here only.
// The client is told the status and nothing more — not which check failed (an unknown app and a bad
// signature look alike), not a socket address from a read error; the log has the detail. The
// connection is closed without reading what is left of the body.
func (r *Receiver) reject(w http.ResponseWriter, req *http.Request, platform, typ string, err error) {
	status, outcome := http.StatusBadRequest, outcomeBadRequest
	switch {
	case errors.Is(err, ErrBodyTooLarge):
		status, outcome = http.StatusRequestEntityTooLarge, outcomeTooLarge
	case errors.Is(err, ErrBodySlow):
		status, outcome = http.StatusRequestTimeout, outcomeSlow
	case errors.Is(err, ErrStale):
		status, outcome = http.StatusUnauthorized, outcomeStale
	case errors.Is(err, ErrForbidden):
		status, outcome = http.StatusForbidden, outcomeForbidden
	case errors.Is(err, ErrUnknownApp), errors.Is(err, ErrMissingHeader), errors.Is(err, ErrBodyMD5),
		errors.Is(err, ErrChecksum), errors.Is(err, ErrAppKeyMismatch), errors.Is(err, ErrSignature):
		status, outcome = http.StatusUnauthorized, outcomeAuth
	}
	r.metrics.callbacks.WithLabelValues(platform, typ, outcome).Inc()
	r.log.Warn("callback rejected", "platform", platform, "status", status, "client", r.clientAddrString(req), "err", err)
	hangUp(w)
	msg := http.StatusText(status)
	if status == http.StatusRequestEntityTooLarge {
		msg += "; the limit is " + strconv.FormatInt(r.cfg.MaxBodyBytes, 10) + " bytes"
	}
	http.Error(w, msg, status)
}

func (r *Receiver) wrongMethod(platform, allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		r.metrics.callbacks.WithLabelValues(platform, "", outcomeMethod).Inc()
		hangUp(w)
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed; use "+allow, http.StatusMethodNotAllowed)
	}
}

// typeLabel bounds the "type" label: the platform's type where the receiver knows it, else "other".
func typeLabel(platform, typ string) string {
	if typ == "" {
		return ""
	}
	known := normalize.KnownType(platform, typ)
	if !known {
		return "other"
	}
	return typ
}

// fieldOf returns a body's top-level field, or "" when the body is not a JSON object.
func fieldOf(name string) func(body []byte) string {
	return func(body []byte) string {
		return normalize.Field(body, name)
	}
}

// redactedHeaders are request headers whose value is a credential: kept by name, value replaced.
var redactedHeaders = map[string]bool{"Signature": true, "Authorization": true, "Cookie": true, "Access-Token": true}

// rawRecord keeps the body exactly as received as the record value, and every request header except
// the value of credentials. Its key is the event_id (or, for a body that could not be normalized, the
// hash of the body), so the raw record of an event is found by its id. The key and the header values
// share one allocation, the headers another.
func rawRecord(topic string, d delivery, key, eventID, receipt string) *kgo.Record {
	path := d.req.URL.Path
	if d.platform == event.SourceILink {
		path = "/v1/ilink/" + d.app + "/" + kafka.Redacted
	}
	var ms [20]byte
	received := strconv.AppendInt(ms[:0], d.start.UnixMilli(), 10)
	size := len(key) + len(d.platform) + len(d.app) + len(received) + len(path) + len(d.req.RemoteAddr) + len(receipt) +
		len(d.client) + len(eventID)
	n := 8
	for name, vals := range d.req.Header {
		for _, v := range vals {
			if redactedHeaders[name] {
				v = kafka.Redacted
			}
			size += len(v)
			n++
		}
	}
	arena := make([]byte, 0, size)
	put := func(s string) []byte { // s's bytes in the arena, which never grows: the slices stay valid
		start := len(arena)
		arena = append(arena, s...)
		return arena[start:len(arena):len(arena)]
	}
	hs := make([]kgo.RecordHeader, 0, n+1) // one more for the signature
	recKey := put(key)
	hs = append(hs,
		kgo.RecordHeader{Key: kafka.HeaderSource, Value: put(d.platform)},
		kgo.RecordHeader{Key: kafka.HeaderApp, Value: put(d.app)},
		kgo.RecordHeader{Key: kafka.HeaderReceivedAt, Value: put(string(received))},
		kgo.RecordHeader{Key: kafka.HeaderPath, Value: put(path)},
		kgo.RecordHeader{Key: kafka.HeaderRemoteAddr, Value: put(d.req.RemoteAddr)},
		kgo.RecordHeader{Key: kafka.HeaderReceipt, Value: put(receipt)},
	)
	if d.client != "" {
		hs = append(hs, kgo.RecordHeader{Key: kafka.HeaderClientAddr, Value: put(d.client)})
	}
	if eventID != "" {
		hs = append(hs, kgo.RecordHeader{Key: kafka.HeaderEventID, Value: put(eventID)})
	}
	for name, vals := range d.req.Header {
		for _, v := range vals {
			if redactedHeaders[name] {
				v = kafka.Redacted
			}
			hs = append(hs, kgo.RecordHeader{Key: kafka.HTTPHeader(name), Value: put(v)})
		}
	}
	return &kgo.Record{Topic: topic, Key: recKey, Value: d.body, Headers: hs, Timestamp: d.start}
}

// deadLetterRecord is the raw record again, on the dead-letter topic, with the reason.
func deadLetterRecord(topic string, raw *kgo.Record, reason error) *kgo.Record {
	hs := append([]kgo.RecordHeader{
		{Key: kafka.HeaderReason, Value: []byte(reason.Error())},
		{Key: kafka.HeaderStage, Value: []byte("ingest.normalize")},
	}, raw.Headers...)
	return &kgo.Record{Topic: topic, Key: raw.Key, Value: raw.Value, Headers: hs, Timestamp: raw.Timestamp}
}
