package event

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/imarchive/imarchive/internal/jsonx"
)

// Marshal encodes e for the events topic. Two things keep the record close to the size of the
// callback it came from, so that a body under the ingest limit makes a record under the topic's:
//
//   - HTML characters are not escaped: "<", ">" and "&" stay one byte each, not six (\u003c);
//   - Body is not repeated in attrs: the attribute whose value is exactly Body (the smallest such
//     name, when several are) is left out and named in body_attr; Unmarshal puts it back.
//
// The bytes are encoding/json's for the Event type (an Encoder with SetEscapeHTML(false), without
// its newline), written by hand: FuzzMarshalMatchesEncoding holds the two together. e is unchanged.
func Marshal(e *Event) ([]byte, error) {
	if len(e.Attrs) > 255 {
		return marshalMany(e)
	}
	var arr [32]attr // the attrs: on the stack for most events
	attrs := arr[:0]
	bodyAttr := ""
	n := 512 + len(e.Body) + len(e.RawKey)
	for k, v := range e.Attrs {
		n += len(k) + len(v) + 8
		attrs = append(attrs, attr{k, v})
		if e.Body != "" && k != "" && len(v) == len(e.Body) && v == e.Body && (bodyAttr == "" || k < bodyAttr) {
			bodyAttr = k
		}
	}
	// Sorted by key through an index without pointers: swaps need no write barrier.
	var idx [256]uint8
	order := idx[:len(attrs)]
	for i := range order {
		order[i] = uint8(i)
		for j := i; j > 0 && attrs[order[j]].k < attrs[order[j-1]].k; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return appendEvent(make([]byte, 0, n), e, attrs, order, bodyAttr), nil
}

// marshalMany is Marshal for an event of more than 255 attrs (sorted without the index).
func marshalMany(e *Event) ([]byte, error) {
	attrs := make([]attr, 0, len(e.Attrs))
	bodyAttr := ""
	n := 512 + len(e.Body) + len(e.RawKey)
	for k, v := range e.Attrs {
		n += len(k) + len(v) + 8
		attrs = append(attrs, attr{k, v})
		if e.Body != "" && k != "" && v == e.Body && (bodyAttr == "" || k < bodyAttr) {
			bodyAttr = k
		}
	}
	slices.SortFunc(attrs, func(a, b attr) int { return strings.Compare(a.k, b.k) })
	return appendEvent(make([]byte, 0, n), e, attrs, nil, bodyAttr), nil
}

type attr struct{ k, v string }

// appendEvent writes e with its attrs but bodyAttr, in key order: attrs[order[0]], attrs[order[1]], …
// (order nil: attrs is sorted).
func appendEvent(b []byte, e *Event, attrs []attr, order []uint8, bodyAttr string) []byte {
	b = append(b, `{"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = str(b, `,"event_id":`, e.EventID)
	b = str(b, `,"source":`, e.Source)
	b = str(b, `,"app":`, e.App)
	b = str(b, `,"kind":`, e.Kind)
	b = str(b, `,"platform_type":`, e.PlatformType)
	b = strOmit(b, `,"platform_subtype":`, e.PlatformSubtype)
	b = strOmit(b, `,"op":`, e.Op)
	b = append(b, `,"occurred_at_ms":`...)
	b = strconv.AppendInt(b, e.OccurredAtMs, 10)
	b = append(b, `,"received_at_ms":`...)
	b = strconv.AppendInt(b, e.ReceivedAtMs, 10)
	b = strOmit(b, `,"actor":`, e.Actor)
	b = strOmit(b, `,"actor_nick":`, e.ActorNick)
	b = strOmit(b, `,"actor_client_type":`, e.ActorClientType)
	b = strOmit(b, `,"actor_device_id":`, e.ActorDeviceID)
	b = strOmit(b, `,"actor_ip":`, e.ActorIP)
	b = strOmit(b, `,"actor_connection_id":`, e.ActorConnectionID)
	b = strOmit(b, `,"msg_id":`, e.MsgID)
	b = strOmit(b, `,"client_msg_id":`, e.ClientMsgID)
	b = strOmit(b, `,"msg_type":`, e.MsgType)
	b = intOmit(b, `,"msg_time_ms":`, e.MsgTimeMs)
	b = msgRef(b, `,"reply":`, e.Reply)
	b = msgRef(b, `,"thread":`, e.Thread)
	b = strOmit(b, `,"inviter":`, e.Inviter)
	b = appendTarget(b, &e.Target)
	b = strOmit(b, `,"body":`, e.Body)
	if e.Antispam {
		b = append(b, `,"antispam":true`...)
	}
	b = strOmit(b, `,"antispam_detail":`, e.AntispamDetail)
	b = append(b, `,"attrs":`...)
	if e.Attrs == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		first := true
		for i := range attrs {
			a := attrs[i]
			if order != nil {
				a = attrs[order[i]]
			}
			if bodyAttr != "" && a.k == bodyAttr {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsonx.AppendString(b, a.k, false)
			b = append(b, ':')
			b = jsonx.AppendString(b, a.v, false)
		}
		b = append(b, '}')
	}
	b = strOmit(b, `,"raw_key":`, e.RawKey)
	b = strOmit(b, `,"body_attr":`, bodyAttr)
	return append(b, '}')
}

func appendTarget(b []byte, t *Target) []byte {
	b = append(b, `,"target":{`...)
	start := len(b)
	b = strOmit(b, `,"account":`, t.Account)
	b = strOmit(b, `,"group":`, t.Group)
	b = strOmit(b, `,"server":`, t.Server)
	b = strOmit(b, `,"channel":`, t.Channel)
	b = strOmit(b, `,"role":`, t.Role)
	b = strsOmit(b, `,"accounts":`, t.Accounts)
	b = strsOmit(b, `,"roles":`, t.Roles)
	if len(t.RolePriorities) > 0 {
		b = append(b, `,"role_priorities":{`...)
		keys := sortedKeys(t.RolePriorities)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonx.AppendString(b, k, false)
			b = append(b, ':')
			b = strconv.AppendInt(b, t.RolePriorities[k], 10)
		}
		b = append(b, '}')
	}
	b = strOmit(b, `,"member_type":`, t.MemberType)
	b = strOmit(b, `,"channel_type":`, t.ChannelType)
	b = strOmit(b, `,"channel_view_mode":`, t.ChannelViewMode)
	if len(b) > start {
		b = append(b[:start], b[start+1:]...) // the first member's comma
	}
	return append(b, '}')
}

func msgRef(b []byte, name string, r MsgRef) []byte {
	if r.IsZero() {
		return b
	}
	b = append(b, name...)
	b = append(b, '{')
	start := len(b)
	b = strOmit(b, `,"msg_id":`, r.MsgID)
	b = strOmit(b, `,"client_msg_id":`, r.ClientMsgID)
	b = strOmit(b, `,"from":`, r.From)
	b = intOmit(b, `,"msg_time_ms":`, r.MsgTimeMs)
	if len(b) > start {
		b = append(b[:start], b[start+1:]...)
	}
	return append(b, '}')
}

// sortedKeys returns m's keys, sorted as encoding/json sorts them.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func str(b []byte, name, v string) []byte {
	b = append(b, name...)
	return jsonx.AppendString(b, v, false)
}

func strOmit(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return str(b, name, v)
}

func intOmit(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, name...)
	return strconv.AppendInt(b, v, 10)
}

func strsOmit(b []byte, name string, l []string) []byte {
	if len(l) == 0 {
		return b
	}
	b = append(b, name...)
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonx.AppendString(b, s, false)
	}
	return append(b, ']')
}

// Unmarshal decodes an events-topic record written by Marshal (or by a build before body_attr,
// whose attrs are whole): the attribute named by body_attr gets Body back, so the event is the one
// that was marshaled.
//
// A record in the form Marshal writes is read by hand (decode.go); any other — a key in another
// case, an unknown or repeated key, a value of another type, bad JSON — and any e that is not the
// zero Event are left to json.Unmarshal, whose answer the hand-written reader is held to
// (FuzzUnmarshalMatchesEncoding).
func Unmarshal(b []byte, e *Event) error {
	if !decodeFast(b, e) {
		if err := json.Unmarshal(b, e); err != nil {
			return err
		}
	}
	if e.BodyAttr != "" {
		if e.Attrs == nil {
			e.Attrs = map[string]string{}
		}
		e.Attrs[e.BodyAttr] = e.Body
		e.BodyAttr = ""
	}
	return nil
}

// decodeFast reads b into e when e is the zero Event and b is in Marshal's form; false leaves e
// untouched.
func decodeFast(b []byte, e *Event) bool {
	if !reflect.ValueOf(e).Elem().IsZero() {
		return false
	}
	var x Event
	if !decodeEvent(b, &x) {
		return false
	}
	*e = x
	return true
}
