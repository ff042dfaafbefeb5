// Package presencemodel is the online-state rule of the NetEase QChat manual (eventType 47), written
// plainly as a test oracle. It replays presence copies in arrival order and says what each copy's
// verdict was and which connections, devices and accounts are online.
//
// It shares no code with the pipeline's implementation (pipeline/presence.go and schema 0075): it
// reads the platform's own payload fields, as the envelope keeps them verbatim in attrs (NetEase type,
// time, consid, deviceId, clientType, loginTime; iLink type and time), with its own table of the types
// that mean online, and keeps its state in plain maps, one copy at a time. The manual's rule, as read
// in pipeline/doc.go:
//
//   - a copy belongs to a connection: its consid; else its deviceId and clientType; else its account;
//   - a copy whose time is smaller than its connection's stamp is ignored (stale); every other copy is
//     applied, its time becomes the stamp, and the connection is then online for NetEase types 1 and 8
//     and iLink type 1, offline for anything else;
//   - a copy arriving again (same event_id) keeps its first verdict and changes nothing;
//   - a device or an account is online when any of its connections is online and, on NetEase, was
//     applied no longer than the heartbeat period plus grace ago.
package presencemodel

import (
	"fmt"
	"strconv"

	"github.com/imarchive/imarchive/event"
)

// Verdict is what the rule said of one copy.
type Verdict struct {
	Stale   bool
	Arrival uint64 // the copy's first arrival among its account's copies, from 1
}

// Conn is one connection's state.
type Conn struct {
	Source, App, Account string
	Key                  string // "" when the account is its own connection
	ConsID               string
	Device, ClientType   string
	Stamp                int64 // time of the last applied copy
	Online               bool  // what the last applied copy says
	Type                 string
	EventID              string
	Arrival              uint64
	RunStart             int64 // time of the first applied copy of the current run of online (or offline) copies
	LoginTime            int64 // the last applied copy's loginTime, 0 when absent
	Renews               bool  // NetEase: an online state lapses without a renewal
}

// Model replays copies. The zero value is not usable: call New.
type Model struct {
	expiryMs int64
	verdicts map[string]Verdict
	conns    map[string]*Conn
	counts   map[string]uint64
}

// New returns an empty model; expiryMs is the NetEase heartbeat period plus grace.
func New(expiryMs int64) *Model {
	return &Model{expiryMs: expiryMs, verdicts: map[string]Verdict{}, conns: map[string]*Conn{}, counts: map[string]uint64{}}
}

// online says what a platform's type code means; ok is false for a code the manual does not give.
func online(source, typ string) (on, ok bool) {
	switch source {
	case event.SourceNetease:
		switch typ {
		case "1", "8": // 登录, 心跳续约
			return true, true
		case "2", "3", "4", "5", "6", "7": // 登出, 掉线, 互踢, SDK 踢掉其他端, 服务器踢下线, 重复连接断开旧连接
			return false, true
		}
	case event.SourceILink:
		switch typ {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	}
	return false, false
}

func number(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0
		}
		v = int64(f)
	}
	return v
}

// Copy is one presence copy as the model reads it from an envelope.
type Copy struct {
	EventID, Source, App, Account string
	ConsID, Device, ClientType    string
	Type                          string
	Time, LoginTime               int64
}

// Read takes a copy's fields from the platform payload kept in e.Attrs.
func Read(e *event.Event) (Copy, error) {
	a := e.Attrs
	c := Copy{EventID: e.EventID, Source: e.Source, App: e.App, Type: a["type"]}
	switch e.Source {
	case event.SourceNetease:
		c.Account, c.ConsID, c.Device, c.ClientType = a["accid"], a["consid"], a["deviceId"], a["clientType"]
		c.Time, c.LoginTime = number(a["time"]), number(a["loginTime"])
	case event.SourceILink:
		c.Account = a["from_uid"]
		c.Time = number(a["time"])
		if c.Time < 100_000_000_000 {
			c.Time *= 1000 // seconds
		}
	default:
		return c, fmt.Errorf("presencemodel: source %q has no presence copies", e.Source)
	}
	if _, ok := online(c.Source, c.Type); !ok || c.Account == "" {
		return c, fmt.Errorf("presencemodel: %s copy %s: type %q, account %q", c.Source, c.EventID, c.Type, c.Account)
	}
	return c, nil
}

func (c Copy) connection() string {
	switch {
	case c.ConsID != "":
		return "consid " + c.ConsID
	case c.Device != "" || c.ClientType != "":
		return fmt.Sprintf("device %q %q", c.ClientType, c.Device)
	}
	return ""
}

func accountKey(source, app, account string) string {
	return fmt.Sprintf("%q %q %q", source, app, account)
}

// Arrive replays the arrival of one copy and returns its verdict.
func (m *Model) Arrive(c Copy) Verdict {
	if v, ok := m.verdicts[c.EventID]; ok {
		return v
	}
	acct := accountKey(c.Source, c.App, c.Account)
	m.counts[acct]++
	v := Verdict{Arrival: m.counts[acct]}
	key := acct + " " + c.connection()
	conn := m.conns[key]
	if conn != nil && c.Time < conn.Stamp {
		v.Stale = true
		m.verdicts[c.EventID] = v
		return v
	}
	on, _ := online(c.Source, c.Type)
	if conn == nil {
		conn = &Conn{Source: c.Source, App: c.App, Account: c.Account, Key: c.connection(), ConsID: c.ConsID,
			Device: c.Device, ClientType: c.ClientType, RunStart: c.Time, Online: on}
		m.conns[key] = conn
	}
	if conn.Online != on {
		conn.RunStart = c.Time
	}
	conn.Stamp, conn.Online, conn.Type, conn.EventID, conn.Arrival, conn.LoginTime = c.Time, on, c.Type, c.EventID, v.Arrival, c.LoginTime
	conn.Renews = c.Source == event.SourceNetease
	m.verdicts[c.EventID] = v
	return v
}

// Verdict returns the verdict of a copy that arrived.
func (m *Model) Verdict(eventID string) (Verdict, bool) {
	v, ok := m.verdicts[eventID]
	return v, ok
}

// Connections returns every connection with an applied copy.
func (m *Model) Connections() []*Conn {
	out := make([]*Conn, 0, len(m.conns))
	for _, c := range m.conns {
		out = append(out, c)
	}
	return out
}

// Status is online, expired or offline at nowMs.
func (m *Model) Status(c *Conn, nowMs int64) string {
	switch {
	case !c.Online:
		return "offline"
	case c.Renews && c.Stamp+m.expiryMs < nowMs:
		return "expired"
	}
	return "online"
}

// ExpiresAt is when an online connection lapses without a renewal, 0 for never or offline.
func (m *Model) ExpiresAt(c *Conn) int64 {
	if !c.Online || !c.Renews {
		return 0
	}
	return c.Stamp + m.expiryMs
}

// Since is when the connection's status at nowMs began: online, the start of its session (its first
// applied online copy of the run, or its loginTime when earlier); offline, its first applied offline copy
// of the run; expired, its renewal deadline.
func (m *Model) Since(c *Conn, nowMs int64) int64 {
	switch m.Status(c, nowMs) {
	case "expired":
		return m.ExpiresAt(c)
	case "online":
		if c.LoginTime != 0 && c.LoginTime < c.RunStart {
			return c.LoginTime
		}
	}
	return c.RunStart
}

// Group is the state of a device or an account: of a set of connections.
type Group struct {
	Status            string // online if any connection is; else expired if any is; else offline
	Since             int64  // online: the earliest Since of those online; else the latest Since
	ConnectionsOnline int
	DevicesOnline     int
	Connections       int
}

// Of gives the state of a set of connections at nowMs.
func (m *Model) Of(conns []*Conn, nowMs int64) Group {
	var g Group
	devices := map[[2]string]bool{}
	expired := false
	var onlineSince, ended int64
	for _, c := range conns {
		g.Connections++
		since := m.Since(c, nowMs)
		switch m.Status(c, nowMs) {
		case "online":
			if g.ConnectionsOnline == 0 || since < onlineSince {
				onlineSince = since
			}
			g.ConnectionsOnline++
			devices[[2]string{c.Device, c.ClientType}] = true
		case "expired":
			expired = true
		}
		if since > ended {
			ended = since
		}
	}
	g.DevicesOnline = len(devices)
	switch {
	case g.ConnectionsOnline > 0:
		g.Status, g.Since = "online", onlineSince
	case expired:
		g.Status, g.Since = "expired", ended
	default:
		g.Status, g.Since = "offline", ended
	}
	return g
}

// Account returns the connections of one account.
func (m *Model) Account(source, app, account string) []*Conn {
	var out []*Conn
	for _, c := range m.conns {
		if c.Source == source && c.App == app && c.Account == account {
			out = append(out, c)
		}
	}
	return out
}

// Device returns the connections of one device of an account.
func (m *Model) Device(source, app, account, device, clientType string) []*Conn {
	var out []*Conn
	for _, c := range m.Account(source, app, account) {
		if c.Device == device && c.ClientType == clientType {
			out = append(out, c)
		}
	}
	return out
}
