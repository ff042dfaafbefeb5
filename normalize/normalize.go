package normalize

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

// IsError reports whether err is a normalization error (dead letter) rather than a failure
// of ours.
func IsError(err error) bool {
	return errors.Is(err, ErrNotObject) || errors.Is(err, ErrUnsupportedType) || errors.Is(err, ErrBadField) ||
		errors.Is(err, ErrMissingField)
}

// Func turns one authentic callback body of a platform into a canonical event. It returns an
// error wrapping ErrNotObject, ErrUnsupportedType, ErrBadField or ErrMissingField when it cannot.
type Func func(app string, body []byte, receivedAt time.Time) (event.Event, error)

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

// KnownType reports whether typ is a callback type of source (event.SourceNetease, SourceILink,
// SourceMaxim) the normalizers know: the receiver's metrics label such types by name, others "other".
func KnownType(source, typ string) bool {
	switch source {
	case event.SourceNetease:
		_, ok := neteaseTypes[typ]
		return ok
	case event.SourceILink:
		return typ == "1" || typ == "2" || typ == "3" || typ == "4"
	case event.SourceMaxim:
		_, ok := maximKinds[typ]
		return ok
	}
	return false
}

// Field returns the text of body's top-level field name (a string unquoted, any other value as its
// JSON), or "" when body is not one JSON object or has no such field.
func Field(body []byte, name string) string {
	f, err := parseFields(body)
	if err != nil {
		return ""
	}
	return f.str(name)
}
