package kafka

import "errors"

// The raw record: what serve writes to <prefix>raw for every verified callback, the record of truth
// that replay, the raw consumer and the auditors read.
//
//   - value: the request body, byte for byte as received;
//   - key: the event's event_id, or for a body that could not be normalized
//     event.ID(platform, app, "raw", body), so a platform's retries land on one partition;
//   - timestamp: when serve received the request;
//   - headers: the names below (HeaderSource … HeaderEventID), then every request header under
//     HTTPHeaderPrefix+Name (HTTPHeader), credentials replaced by Redacted.
//
// A dead-letter record is the raw record again with HeaderReason and HeaderStage in front.
const (
	HeaderSource     = "imarchive.source"
	HeaderApp        = "imarchive.app"
	HeaderReceivedAt = "imarchive.received_at_ms"
	HeaderPath       = "imarchive.path"
	HeaderRemoteAddr = "imarchive.remote_addr"
	// HeaderClientAddr is the client's address as told by a trusted proxy (X-Forwarded-For), when the
	// request came through one; imarchive.remote_addr is then the proxy's.
	HeaderClientAddr = "imarchive.client_addr"
	HeaderEventID    = "imarchive.event_id"
	// HeaderReceipt identifies one receipt of a callback (one HTTP request we accepted). A platform
	// retry is a new receipt; a spool re-send of the same receipt carries the same id, so two raw
	// records with one receipt id are one callback sent twice by us, not by the platform.
	HeaderReceipt = "imarchive.receipt_id"
	// HeaderSpooledAt, on a record forwarded from the spool: when it was written to the spool (Unix
	// ms); HeaderSpoolSeq: its sequence number there.
	HeaderSpooledAt = "imarchive.spooled_at_ms"
	HeaderSpoolSeq  = "imarchive.spool_seq"
	// HTTPHeaderPrefix prefixes the request headers kept on the raw record ("http.Checksum").
	HTTPHeaderPrefix = "http."
	// HeaderReason, on a dead-letter record: why the body could not be normalized or written.
	HeaderReason = "imarchive.reason"
	// HeaderStage, on a dead-letter record: where it failed ("ingest.normalize").
	HeaderStage = "imarchive.stage"
	// HeaderBodySHA256 and HeaderFirstBodySHA256, on the dead letter of an event_id conflict: the
	// SHA-256 of this body and of the one delivered first.
	HeaderBodySHA256      = "imarchive.body_sha256"
	HeaderFirstBodySHA256 = "imarchive.first_body_sha256"
)

// Redacted replaces a credential in a raw record (the Maxim signature header, the iLink path secret).
const Redacted = "[redacted]"

// httpHeaderKeys are the record header names of the request headers platforms send, made once.
var httpHeaderKeys = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{"Accept", "Accept-Encoding", "Appkey", "Checksum", "Connection", "Content-Length",
		"Content-Type", "Curtime", "Md5", "Signature", "User-Agent", "X-Forwarded-For", "X-Forwarded-Proto",
		"X-Real-Ip", "Authorization", "Cookie", "Access-Token", "Host"} {
		m[name] = HTTPHeaderPrefix + name
	}
	return m
}()

// HTTPHeader is the record header name of the request header name (canonical form).
func HTTPHeader(name string) string {
	if k, ok := httpHeaderKeys[name]; ok {
		return k
	}
	return HTTPHeaderPrefix + name
}

// ErrRecordTooLarge is the dead-letter reason of an authentic callback whose event record would be
// over the record limit (IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES): the producer would refuse it on every
// try, so it is kept raw and dead-lettered, and answered as delivered.
var ErrRecordTooLarge = errors.New("event record over the record limit")
