package normalize

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imarchive/imarchive/event"
)

// ILink turns one ET-iLink push (manual 000 §4) into a canonical event:
//
//   - msg_type 1 (text) and 2 (file): a one-to-one message from_uid → to_uid;
//   - msg_type 3 (group), or any of 1–3 carrying group_id (the manual's §4.2 example sends msg_type 1
//     with a group_id): a group message in Target.Group;
//   - msg_type 4 is two things: with "time"/"type" and no content, the subscribed user from_uid went
//     online (type 1) or offline (type 0), a presence event; with group_id or content, a message of
//     the subscribed topic group_id.
//
// content is Base64: Body is the decoded text (invalid UTF-8 replaced by U+FFFD), Attrs keeps the
// original. Times are seconds (×1000); a value already in milliseconds (over 10^11) is taken as is.
func ILink(app string, body []byte, receivedAt time.Time) (event.Event, error) {
	f, err := parseFields(body)
	if err != nil {
		return event.Event{}, err
	}
	e := newEvent(event.SourceILink, app, f, receivedAt)
	mt := f.str("msg_type")
	e.PlatformType = mt
	e.Actor = f.str("from_uid")
	e.Target.Account = f.str("to_uid")
	switch {
	case mt == "4" && !f.has("content") && !f.has("group_id"):
		err = ilinkStatus(&e, f)
	case mt == "1" || mt == "2" || mt == "3" || mt == "4":
		err = ilinkMessage(&e, f)
	default:
		err = fmt.Errorf("%w: msg_type %q", ErrUnsupportedType, clip(mt))
	}
	if err != nil {
		return event.Event{}, err
	}
	if id := f.str("msg_id"); id != "" {
		e.MsgID = id
		e.EventID = event.ID(e.Source, e.App, "msg", id)
	} else {
		e.EventID = bodyID(&e, f, mt)
	}
	return e, nil
}

var ilinkStatusOps = map[string]string{"1": event.OpOnline, "0": event.OpOffline}

// ilinkStatus maps a subscribed user's status change (msg_type 4 with time and type): Actor is the
// user whose state changed (from_uid), Target.Account the subscriber (to_uid). A push without time is
// kept with OccurredAtMs 0, as a NetEase 47 without time is: the online-state rule then orders it
// before every timed event of the account (doc.go, "A status without its time").
func ilinkStatus(e *event.Event, f fields) error {
	typ := f.str("type")
	op, ok := ilinkStatusOps[typ]
	if !ok {
		return fmt.Errorf("%w: status type %q (want 1 online or 0 offline)", ErrUnsupportedType, clip(typ))
	}
	if e.Actor == "" {
		return missing("from_uid")
	}
	e.Kind, e.Op, e.PlatformSubtype = event.KindPresence, op, typ
	ms, _, err := ilinkTime(f, "time")
	if err != nil {
		return err
	}
	e.OccurredAtMs = ms
	return nil
}

// ilinkMessage maps text, file, group and topic messages.
func ilinkMessage(e *event.Event, f fields) error {
	e.Kind, e.Op = event.KindMessage, event.OpSend
	e.Target.Group = f.str("group_id")
	e.MsgType = "TEXT"
	if f.str("msg_type") == "2" {
		e.MsgType = "FILE"
	}
	ms, _, err := ilinkTime(f, "create_time")
	if err != nil {
		return err
	}
	e.OccurredAtMs, e.MsgTimeMs = ms, ms
	text, err := decodeBase64(f.str("content"))
	if err != nil {
		return fmt.Errorf("%w: content: %w", ErrBadField, err)
	}
	e.Body = text
	return nil
}

func ilinkTime(f fields, name string) (int64, bool, error) {
	v, ok, err := f.timeMs(name)
	if err != nil || !ok {
		return 0, ok, err
	}
	if v < 1e11 {
		v *= 1000
	}
	return v, true, nil
}

// decodeBase64 decodes standard Base64, padded or not; URL-safe Base64 and line breaks are accepted
// too, since encoders differ. The result is text: invalid UTF-8 is replaced by U+FFFD.
func decodeBase64(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return "", nil
	}
	var (
		b   []byte
		err error
	)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("not Base64: %w", err)
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	return string(b), nil
}
