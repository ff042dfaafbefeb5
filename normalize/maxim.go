package normalize

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/imarchive/imarchive/event"
)

var maximKinds = map[string]struct{ kind, op string }{
	"CHAT":      {event.KindMessage, event.OpSend},
	"GROUPCHAT": {event.KindMessage, event.OpSend},
	"REPLACE":   {event.KindMessageUpdate, event.OpUpdate},
	"APPEND":    {event.KindMessageUpdate, event.OpAppend},
}

// Maxim turns one Maxim (美信拓扑 / Lanying) message-subscription POST into a canonical event:
// appId, msgId, from.uid, to.uid (uids may be numbers), type CHAT (to a user), GROUPCHAT (to a group),
// REPLACE or APPEND (an existing message msgId replaced or appended to), ctype (TEXT, IMAGE, AUDIO,
// FILE, …), content, and ext and config as JSON-encoded strings (kept verbatim in Attrs). The platform
// documents no time field: "timestamp" (or "time") is used when present, else OccurredAtMs stays 0 so
// that a redelivery normalizes to the very same event.
func Maxim(app string, body []byte, receivedAt time.Time) (event.Event, error) {
	f, err := parseFields(body)
	if err != nil {
		return event.Event{}, err
	}
	e := newEvent(event.SourceMaxim, app, f, receivedAt)
	typ := f.str("type")
	e.PlatformType = typ
	k, ok := maximKinds[typ]
	if !ok {
		return event.Event{}, fmt.Errorf("%w: type %q", ErrUnsupportedType, clip(typ))
	}
	e.Kind, e.Op = k.kind, k.op
	from, err := maximUID(f, "from")
	if err != nil {
		return event.Event{}, err
	}
	to, err := maximUID(f, "to")
	if err != nil {
		return event.Event{}, err
	}
	e.Actor = from
	if typ == "GROUPCHAT" {
		e.Target.Group = to
	} else {
		e.Target.Account = to
	}
	e.MsgID = f.str("msgId")
	e.MsgType = f.str("ctype")
	e.Body = f.str("content")
	for _, name := range []string{"timestamp", "time"} {
		ms, ok, err := f.timeMs(name)
		if err != nil {
			return event.Event{}, err
		}
		if ok {
			if ms < 1e11 {
				ms *= 1000
			}
			e.OccurredAtMs, e.MsgTimeMs = ms, ms
			break
		}
	}
	switch {
	case e.MsgID == "":
		e.EventID = bodyID(&e, f, typ)
	case typ == "CHAT" || typ == "GROUPCHAT":
		e.EventID = event.ID(e.Source, e.App, "msg", e.MsgID)
	default:
		e.EventID = bodyID(&e, f, typ, e.MsgID)
	}
	return e, nil
}

// maximUID reads from.uid or to.uid: an object {"uid": …} with a string or number uid. A bare uid in
// place of the object is accepted too.
func maximUID(f fields, name string) (string, error) {
	raw, ok := f.raw(name)
	if !ok || jsonText(raw) == "" {
		return "", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		if s := jsonText(raw); s != "" && raw[0] != '{' && raw[0] != '[' {
			return s, nil
		}
		return "", fmt.Errorf("%w: %s: want an object with uid: %w", ErrBadField, name, err)
	}
	return jsonText(obj["uid"]), nil
}
