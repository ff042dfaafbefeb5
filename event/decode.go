package event

import (
	"strconv"

	"github.com/imarchive/imarchive/internal/jsonx"
)

// decoder reads an events-topic record in the form Marshal writes. The texts of strings without
// escapes are slices of one copy of the record: one allocation for all of them.
type decoder struct {
	data []byte
	src  string // data as a string
	i    int
}

// decodeEvent reads data into e, which must be the zero Event. It returns false for anything it
// leaves to encoding/json: a key it does not know exactly (encoding/json also matches keys in another
// case), a key seen twice, a null, a value of another type, a number that is not an integer or too
// large, bad JSON.
func decodeEvent(data []byte, e *Event) bool {
	d := decoder{data: data, src: string(data)}
	d.space()
	var seen uint64
	ok := d.object(func(key []byte) bool {
		var bit uint64
		switch string(key) {
		case "schema_version":
			bit = 1 << 0
			n, ok := d.int()
			if !ok || int64(int(n)) != n {
				return false
			}
			e.SchemaVersion = int(n)
		case "event_id":
			bit = 1 << 1
			return seen&bit == 0 && d.string(&e.EventID) && mark(&seen, bit)
		case "source":
			bit = 1 << 2
			return seen&bit == 0 && d.string(&e.Source) && mark(&seen, bit)
		case "app":
			bit = 1 << 3
			return seen&bit == 0 && d.string(&e.App) && mark(&seen, bit)
		case "kind":
			bit = 1 << 4
			return seen&bit == 0 && d.string(&e.Kind) && mark(&seen, bit)
		case "platform_type":
			bit = 1 << 5
			return seen&bit == 0 && d.string(&e.PlatformType) && mark(&seen, bit)
		case "platform_subtype":
			bit = 1 << 6
			return seen&bit == 0 && d.string(&e.PlatformSubtype) && mark(&seen, bit)
		case "op":
			bit = 1 << 7
			return seen&bit == 0 && d.string(&e.Op) && mark(&seen, bit)
		case "occurred_at_ms":
			bit = 1 << 8
			return seen&bit == 0 && d.int64(&e.OccurredAtMs) && mark(&seen, bit)
		case "received_at_ms":
			bit = 1 << 9
			return seen&bit == 0 && d.int64(&e.ReceivedAtMs) && mark(&seen, bit)
		case "actor":
			bit = 1 << 10
			return seen&bit == 0 && d.string(&e.Actor) && mark(&seen, bit)
		case "actor_nick":
			bit = 1 << 11
			return seen&bit == 0 && d.string(&e.ActorNick) && mark(&seen, bit)
		case "actor_client_type":
			bit = 1 << 12
			return seen&bit == 0 && d.string(&e.ActorClientType) && mark(&seen, bit)
		case "actor_device_id":
			bit = 1 << 13
			return seen&bit == 0 && d.string(&e.ActorDeviceID) && mark(&seen, bit)
		case "actor_ip":
			bit = 1 << 14
			return seen&bit == 0 && d.string(&e.ActorIP) && mark(&seen, bit)
		case "actor_connection_id":
			bit = 1 << 15
			return seen&bit == 0 && d.string(&e.ActorConnectionID) && mark(&seen, bit)
		case "msg_id":
			bit = 1 << 16
			return seen&bit == 0 && d.string(&e.MsgID) && mark(&seen, bit)
		case "client_msg_id":
			bit = 1 << 17
			return seen&bit == 0 && d.string(&e.ClientMsgID) && mark(&seen, bit)
		case "msg_type":
			bit = 1 << 18
			return seen&bit == 0 && d.string(&e.MsgType) && mark(&seen, bit)
		case "msg_time_ms":
			bit = 1 << 19
			return seen&bit == 0 && d.int64(&e.MsgTimeMs) && mark(&seen, bit)
		case "reply":
			bit = 1 << 20
			return seen&bit == 0 && d.msgRef(&e.Reply) && mark(&seen, bit)
		case "thread":
			bit = 1 << 21
			return seen&bit == 0 && d.msgRef(&e.Thread) && mark(&seen, bit)
		case "inviter":
			bit = 1 << 22
			return seen&bit == 0 && d.string(&e.Inviter) && mark(&seen, bit)
		case "target":
			bit = 1 << 23
			return seen&bit == 0 && d.target(&e.Target) && mark(&seen, bit)
		case "body":
			bit = 1 << 24
			return seen&bit == 0 && d.string(&e.Body) && mark(&seen, bit)
		case "antispam":
			bit = 1 << 25
			return seen&bit == 0 && d.bool(&e.Antispam) && mark(&seen, bit)
		case "antispam_detail":
			bit = 1 << 26
			return seen&bit == 0 && d.string(&e.AntispamDetail) && mark(&seen, bit)
		case "attrs":
			bit = 1 << 27
			return seen&bit == 0 && d.attrs(&e.Attrs) && mark(&seen, bit)
		case "raw_key":
			bit = 1 << 28
			return seen&bit == 0 && d.string(&e.RawKey) && mark(&seen, bit)
		case "body_attr":
			bit = 1 << 29
			return seen&bit == 0 && d.string(&e.BodyAttr) && mark(&seen, bit)
		default:
			return false
		}
		return seen&bit == 0 && mark(&seen, bit)
	})
	return ok && d.space() == len(d.data)
}

func mark(seen *uint64, bit uint64) bool {
	*seen |= bit
	return true
}

func (d *decoder) space() int {
	d.i = jsonx.SkipSpace(d.data, d.i)
	return d.i
}

// object reads an object, calling member with each key's text (without escapes: a key with one is
// left to encoding/json) with d at the value; member reads the value or returns false.
func (d *decoder) object(member func(key []byte) bool) bool {
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return false
	}
	d.i++
	if d.space() < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return true
	}
	for {
		end, plain, ok := jsonx.String(d.data, d.i)
		if !ok || !plain {
			return false
		}
		key := d.data[d.i+1 : end-1]
		d.i = end
		if d.space() >= len(d.data) || d.data[d.i] != ':' {
			return false
		}
		d.i++
		d.space()
		if !member(key) {
			return false
		}
		if d.space() >= len(d.data) {
			return false
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// text reads a string value.
func (d *decoder) text() (string, bool) {
	end, plain, ok := jsonx.String(d.data, d.i)
	if !ok {
		return "", false
	}
	start := d.i
	d.i = end
	if plain {
		return d.src[start+1 : end-1], true
	}
	return jsonx.Unquote(d.data[start:end])
}

func (d *decoder) string(dst *string) bool {
	s, ok := d.text()
	*dst = s
	return ok
}

// int reads an integer: digits with an optional minus, within int64.
func (d *decoder) int() (int64, bool) {
	end, ok := jsonx.Number(d.data, d.i)
	if !ok {
		return 0, false
	}
	for _, c := range d.data[d.i:end] {
		if c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(d.src[d.i:end], 10, 64)
	d.i = end
	return n, err == nil
}

func (d *decoder) int64(dst *int64) bool {
	n, ok := d.int()
	*dst = n
	return ok
}

func (d *decoder) bool(dst *bool) bool {
	switch {
	case len(d.data)-d.i >= 4 && string(d.data[d.i:d.i+4]) == "true":
		*dst = true
		d.i += 4
	case len(d.data)-d.i >= 5 && string(d.data[d.i:d.i+5]) == "false":
		*dst = false
		d.i += 5
	default:
		return false
	}
	return true
}

// attrs reads an object of strings; null is no map.
func (d *decoder) attrs(dst *map[string]string) bool {
	if len(d.data)-d.i >= 4 && string(d.data[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	m := make(map[string]string, 16)
	*dst = m
	return d.object(func(key []byte) bool {
		v, ok := d.text()
		m[d.at(key)] = v
		return ok
	})
}

// at returns the bytes b, a slice of d.data, as the same bytes of d.src.
func (d *decoder) at(b []byte) string {
	off := cap(d.data) - cap(b)
	return d.src[off : off+len(b)]
}

func (d *decoder) strings(dst *[]string) bool {
	if d.i >= len(d.data) || d.data[d.i] != '[' {
		return false
	}
	d.i++
	l := make([]string, 0, 4)
	if d.space() < len(d.data) && d.data[d.i] == ']' {
		d.i++
		*dst = l
		return true
	}
	for {
		s, ok := d.text()
		if !ok {
			return false
		}
		l = append(l, s)
		if d.space() >= len(d.data) {
			return false
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			*dst = l
			return true
		default:
			return false
		}
	}
}

func (d *decoder) msgRef(r *MsgRef) bool {
	var seen uint64
	return d.object(func(key []byte) bool {
		var bit uint64
		var ok bool
		switch string(key) {
		case "msg_id":
			bit, ok = 1<<0, d.string(&r.MsgID)
		case "client_msg_id":
			bit, ok = 1<<1, d.string(&r.ClientMsgID)
		case "from":
			bit, ok = 1<<2, d.string(&r.From)
		case "msg_time_ms":
			bit, ok = 1<<3, d.int64(&r.MsgTimeMs)
		}
		return ok && seen&bit == 0 && mark(&seen, bit)
	})
}

func (d *decoder) target(t *Target) bool {
	var seen uint64
	return d.object(func(key []byte) bool {
		var bit uint64
		var ok bool
		switch string(key) {
		case "account":
			bit, ok = 1<<0, d.string(&t.Account)
		case "group":
			bit, ok = 1<<1, d.string(&t.Group)
		case "server":
			bit, ok = 1<<2, d.string(&t.Server)
		case "channel":
			bit, ok = 1<<3, d.string(&t.Channel)
		case "role":
			bit, ok = 1<<4, d.string(&t.Role)
		case "accounts":
			bit, ok = 1<<5, d.strings(&t.Accounts)
		case "roles":
			bit, ok = 1<<6, d.strings(&t.Roles)
		case "role_priorities":
			bit, ok = 1<<7, d.priorities(&t.RolePriorities)
		case "member_type":
			bit, ok = 1<<8, d.string(&t.MemberType)
		case "channel_type":
			bit, ok = 1<<9, d.string(&t.ChannelType)
		case "channel_view_mode":
			bit, ok = 1<<10, d.string(&t.ChannelViewMode)
		}
		return ok && seen&bit == 0 && mark(&seen, bit)
	})
}

func (d *decoder) priorities(dst *map[string]int64) bool {
	m := make(map[string]int64)
	*dst = m
	return d.object(func(key []byte) bool {
		n, ok := d.int()
		m[d.at(key)] = n
		return ok
	})
}
