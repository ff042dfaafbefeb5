package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/imarchive/imarchive/event"
)

// Normalization errors: the request was authentic but its body cannot be turned into an event. The
// receiver keeps it on the raw topic and the dead-letter topic, with the error as the reason, and
// answers the platform with success (a retry would not help). ErrNotObject is one too.
var (
	ErrUnsupportedType = errors.New("unsupported event type")
	ErrBadField        = errors.New("bad field")
	ErrMissingField    = errors.New("missing field")
)

// IsNormalizeError reports whether err is a normalization error (dead letter) rather than a failure
// of ours.
func IsNormalizeError(err error) bool {
	return errors.Is(err, ErrNotObject) || errors.Is(err, ErrUnsupportedType) || errors.Is(err, ErrBadField) ||
		errors.Is(err, ErrMissingField)
}

// Normalizer turns one authentic callback body of a platform into a canonical event. It returns an
// error wrapping ErrNotObject, ErrUnsupportedType, ErrBadField or ErrMissingField when it cannot.
type Normalizer func(app string, body []byte, receivedAt time.Time) (event.Event, error)

// newEvent starts an event with the fields every platform fills alike.
func newEvent(source, app string, f fields, receivedAt time.Time) event.Event {
	return event.Event{
		SchemaVersion: event.SchemaVersion,
		Source:        source,
		App:           app,
		ReceivedAtMs:  receivedAt.UnixMilli(),
		Attrs:         f.attrs(),
	}
}

// bodyID is the event_id of a payload without an identity of its own: its canonical encoding.
func bodyID(e *event.Event, f fields, parts ...string) string {
	return event.ID(e.Source, e.App, append(parts, "body", string(f.canonical()))...)
}

func missing(name string) error { return fmt.Errorf("%w: %s", ErrMissingField, name) }
