package ingest

import (
	"errors"
	"fmt"
	"time"

	"github.com/imarchive/imarchive/event"
)

// Normalization errors: the request was authentic but its body cannot be turned into an event. It is
// kept on the raw topic (and, from the ingest issue on, dead-lettered with the reason).
var (
	ErrUnsupportedType = errors.New("unsupported event type")
	ErrBadField        = errors.New("bad field")
)

// NormalizeNetease turns one NetEase QChat copy body into a canonical event.
func NormalizeNetease(app string, body []byte, receivedAt time.Time) (event.Event, error) {
	f, err := parseFields(body)
	if err != nil {
		return event.Event{}, err
	}
	et := f.str("eventType")
	e := event.Event{
		SchemaVersion: event.SchemaVersion,
		Source:        event.SourceNetease,
		App:           app,
		PlatformType:  et,
		ReceivedAtMs:  receivedAt.UnixMilli(),
		Attrs:         f.attrs(),
	}
	if t, ok, err := f.int64("time"); err != nil {
		return event.Event{}, fmt.Errorf("%w: %w", ErrBadField, err)
	} else if ok {
		e.OccurredAtMs = t
	}
	switch et {
	case "48":
		if err := neteaseMessage(&e, f); err != nil {
			return event.Event{}, err
		}
	default:
		return event.Event{}, fmt.Errorf("%w: eventType %q", ErrUnsupportedType, et)
	}
	return e, nil
}

// neteaseMessage maps eventType 48, a QChat message. Its event_id is the platform's msgIdServer;
// without one, a hash of the canonical body.
func neteaseMessage(e *event.Event, f fields) error {
	e.Kind = event.KindMessage
	e.Actor = f.str("fromAccount")
	e.ActorNick = f.str("fromNick")
	e.ActorClientType = f.str("fromClientType")
	e.ActorDeviceID = f.str("fromDeviceId")
	e.ActorIP = f.str("clientIp")
	e.Target.Server = f.str("serverId")
	e.Target.Channel = f.str("channelId")
	e.MsgID = f.str("msgIdServer")
	e.ClientMsgID = f.str("msgIdClient")
	e.MsgType = f.str("msgType")
	e.Body = f.str("body")
	if ts, ok, err := f.int64("msgTimestamp"); err != nil {
		return fmt.Errorf("%w: %w", ErrBadField, err)
	} else if ok {
		e.MsgTimeMs = ts
	}
	if e.OccurredAtMs == 0 {
		e.OccurredAtMs = e.MsgTimeMs
	}
	if e.MsgID != "" {
		e.EventID = event.ID(e.Source, e.App, "48", e.MsgID)
	} else {
		e.EventID = event.ID(e.Source, e.App, "48", "body", string(f.canonical()))
	}
	return nil
}
