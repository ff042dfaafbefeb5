package loadgen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/ingest"
)

// Kinds of callback the generator makes, the keys of Config.Mix.
const (
	NeteaseMessage  = "netease_message"
	NeteasePresence = "netease_presence"
	ILinkMessage    = "ilink_message"
	ILinkGroup      = "ilink_group"
	ILinkStatus     = "ilink_status"
	MaximMessage    = "maxim_message"
	MaximGroup      = "maxim_group"
)

// AllKinds lists every kind, in a stable order.
var AllKinds = []string{NeteaseMessage, NeteasePresence, ILinkMessage, ILinkGroup, ILinkStatus, MaximMessage, MaximGroup}

// DefaultMix weighs the kinds like a busy community: mostly channel messages, a fair share of presence.
const DefaultMix = "netease_message=50,netease_presence=20,ilink_message=8,ilink_group=7,ilink_status=5,maxim_message=5,maxim_group=5"

// ParseMix parses "kind=weight,…".
func ParseMix(s string) (map[string]int, error) {
	m := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		w, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || w < 0 {
			return nil, fmt.Errorf("mix entry %q: want kind=weight", part)
		}
		k = strings.TrimSpace(k)
		if !knownKind(k) {
			return nil, fmt.Errorf("mix entry %q: unknown kind (want one of %s)", part, strings.Join(AllKinds, ", "))
		}
		m[k] = w
	}
	total := 0
	for _, w := range m {
		total += w
	}
	if total == 0 {
		return nil, fmt.Errorf("mix %q: weights add up to zero", s)
	}
	return m, nil
}

func knownKind(k string) bool {
	for _, x := range AllKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Callback is one request to send: the same Callback may be sent again as a platform retry.
type Callback struct {
	Kind     string
	Platform string // netease_qchat, ilink, maxim
	App      string
	Path     string
	Body     []byte
	// ID is the platform's identity of what was sent (a message id, or for presence and iLink, which
	// carry none, the body's own digest); the accepted log records it.
	ID string
	// TimeMs is the event's own platform time; Late marks a presence event sent after newer ones.
	TimeMs  int64
	Late    bool
	Account string
	// EventID is the event_id imarchive computes for the body (its normalizers, run here), so an
	// accepted callback can be found in ClickHouse; empty if the body does not normalize.
	EventID string

	sign func(h http.Header, now time.Time) // sets the platform's authentication headers, fresh for each send
}

// Headers returns the request headers for one send at time now (a retry is re-signed, as the platforms do).
func (c *Callback) Headers(now time.Time) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if c.sign != nil {
		c.sign(h, now)
	}
	return h
}

// generator makes callbacks; it is used by one goroutine.
type generator struct {
	cfg      *Config
	rng      *rand.Rand
	kinds    []string
	weights  []int
	total    int
	seq      uint64
	runID    string
	neteaseK []string
	ilinkK   []string
	maximK   []string
}

func newGenerator(cfg *Config, seed uint64, runID string) *generator {
	g := &generator{cfg: cfg, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), runID: runID}
	for _, k := range AllKinds {
		if w := cfg.Mix[k]; w > 0 {
			g.kinds = append(g.kinds, k)
			g.weights = append(g.weights, w)
			g.total += w
		}
	}
	g.neteaseK = sortedKeys(cfg.NeteaseApps)
	g.ilinkK = sortedKeys(cfg.ILinkApps)
	g.maximK = sortedKeys(cfg.MaximApps)
	return g
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (g *generator) pickKind() string {
	n := g.rng.IntN(g.total)
	for i, w := range g.weights {
		if n < w {
			return g.kinds[i]
		}
		n -= w
	}
	return g.kinds[len(g.kinds)-1]
}

func (g *generator) account() string { return fmt.Sprintf("user%04d", g.rng.IntN(g.cfg.Accounts)) }
func (g *generator) channel() int    { return g.rng.IntN(g.cfg.Channels) }
func (g *generator) text() string {
	words := []string{"hello", "你好", "meeting at 3", "ok", "收到", "see the doc", "👍", "on my way", "发布了新版本", "thanks"}
	return words[g.rng.IntN(len(words))] + " #" + strconv.FormatUint(g.seq, 10)
}

// next makes the next callback, of a kind drawn from the mix, stamped at now.
func (g *generator) next(now time.Time) (*Callback, error) {
	g.seq++
	kind := g.pickKind()
	switch kind {
	case NeteaseMessage, NeteasePresence:
		if len(g.neteaseK) == 0 {
			return nil, fmt.Errorf("mix has %s but no NetEase app is configured", kind)
		}
	case ILinkMessage, ILinkGroup, ILinkStatus:
		if len(g.ilinkK) == 0 {
			return nil, fmt.Errorf("mix has %s but no iLink app is configured", kind)
		}
	case MaximMessage, MaximGroup:
		if len(g.maximK) == 0 {
			return nil, fmt.Errorf("mix has %s but no Maxim app is configured", kind)
		}
	}
	var cb *Callback
	normalize := ingest.NormalizeNetease
	switch kind {
	case NeteaseMessage:
		cb = g.neteaseMessage(now)
	case NeteasePresence:
		cb = g.neteasePresence(now)
	case ILinkMessage, ILinkGroup:
		cb, normalize = g.ilinkMessage(now, kind == ILinkGroup), ingest.NormalizeILink
	case ILinkStatus:
		cb, normalize = g.ilinkStatus(now), ingest.NormalizeILink
	default:
		cb, normalize = g.maximMessage(now, kind == MaximGroup), ingest.NormalizeMaxim
	}
	if ev, err := normalize(cb.App, cb.Body, now); err == nil {
		cb.EventID = ev.EventID
	}
	return cb, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and numbers are marshalled here
	}
	return b
}

func (g *generator) neteaseApp() (string, string) {
	k := g.neteaseK[int(g.seq)%len(g.neteaseK)]
	return k, g.cfg.NeteaseApps[k]
}

func neteaseSigner(secret string, body []byte) func(http.Header, time.Time) {
	return func(h http.Header, now time.Time) {
		ct := strconv.FormatInt(now.UnixMilli(), 10)
		md5hex, sum := ingest.NeteaseCheckSum(secret, body, ct)
		h.Set("CurTime", ct)
		h.Set("MD5", md5hex)
		h.Set("CheckSum", sum)
	}
}

func (g *generator) neteaseMessage(now time.Time) *Callback {
	app, secret := g.neteaseApp()
	ch := g.channel()
	from := g.account()
	id := fmt.Sprintf("%s%09d", g.runID, g.seq)
	ms := now.UnixMilli()
	body := mustJSON(map[string]any{
		"eventType":      "48",
		"fromAccount":    from,
		"fromNick":       "nick-" + from,
		"fromClientType": []string{"AOS", "IOS", "WEB", "PC"}[g.rng.IntN(4)],
		"fromDeviceId":   "dev-" + from,
		"serverId":       strconv.Itoa(1000 + ch%3),
		"channelId":      strconv.Itoa(2000 + ch),
		"msgIdServer":    id,
		"msgIdClient":    fmt.Sprintf("c-%s-%d", g.runID, g.seq),
		"msgType":        "TEXT",
		"body":           g.text(),
		"msgTimestamp":   strconv.FormatInt(ms, 10),
		"clientIp":       "10.0.0.1",
		"clientPort":     40000 + g.rng.IntN(20000),
		"time":           ms + int64(g.rng.IntN(50)),
	})
	return &Callback{Kind: NeteaseMessage, Platform: "netease_qchat", App: app, Path: "/v1/netease/" + app, Body: body, ID: id, TimeMs: ms, Account: from, sign: neteaseSigner(secret, body)}
}

// presenceTypes are NetEase 47 types with weights: mostly logins, heartbeats and logouts.
var presenceTypes = []struct {
	typ    string
	weight int
}{{"1", 30}, {"2", 20}, {"3", 8}, {"4", 3}, {"5", 2}, {"6", 2}, {"7", 5}, {"8", 30}}

func (g *generator) neteasePresence(now time.Time) *Callback {
	app, secret := g.neteaseApp()
	acc := g.account()
	n, typ := g.rng.IntN(100), "1"
	for _, p := range presenceTypes {
		if n < p.weight {
			typ = p.typ
			break
		}
		n -= p.weight
	}
	ms := now.UnixMilli()
	late := g.rng.Float64() < g.cfg.OutOfOrder
	if late {
		// An older event that arrives after newer ones: up to a minute old.
		ms -= 1000 + int64(g.rng.IntN(59000))
	}
	body := mustJSON(map[string]any{
		"eventType":  "47",
		"type":       typ,
		"accid":      acc,
		"clientType": []string{"AOS", "IOS", "WEB", "PC"}[g.rng.IntN(4)],
		"deviceId":   "dev-" + acc,
		"consid":     fmt.Sprintf("con-%s-%d", g.runID, g.seq),
		"clientIp":   "10.0.0.2",
		"clientPort": strconv.Itoa(40000 + g.rng.IntN(20000)),
		"sdkVersion": "90000",
		"loginTime":  strconv.FormatInt(ms-int64(g.rng.IntN(3600000)), 10),
		"time":       strconv.FormatInt(ms, 10),
	})
	return &Callback{Kind: NeteasePresence, Platform: "netease_qchat", App: app, Path: "/v1/netease/" + app, Body: body, ID: "consid:" + fmt.Sprintf("con-%s-%d", g.runID, g.seq), TimeMs: ms, Late: late, Account: acc, sign: neteaseSigner(secret, body)}
}

func (g *generator) ilinkApp() (string, ILinkApp) {
	k := g.ilinkK[int(g.seq)%len(g.ilinkK)]
	return k, g.cfg.ILinkApps[k]
}

func (g *generator) ilinkMessage(now time.Time, group bool) *Callback {
	app, a := g.ilinkApp()
	from, to := g.account(), g.account()
	m := map[string]any{
		"from_uid":    from,
		"to_uid":      to,
		"create_time": now.Unix(),
		"msg_type":    1,
		"content":     base64.StdEncoding.EncodeToString([]byte(g.text())),
	}
	kind := ILinkMessage
	if group {
		kind = ILinkGroup
		m["msg_type"] = 3
		m["group_id"] = fmt.Sprintf("grp-%02d", g.channel())
	}
	body := mustJSON(m)
	return &Callback{Kind: kind, Platform: "ilink", App: app, Path: "/v1/ilink/" + app + "/" + a.PathSecret, Body: body, ID: "body:" + digest(body), TimeMs: now.Unix() * 1000, Account: from}
}

func (g *generator) ilinkStatus(now time.Time) *Callback {
	app, a := g.ilinkApp()
	acc := g.account()
	sec := now.Unix()
	late := g.rng.Float64() < g.cfg.OutOfOrder
	if late {
		sec -= 2 + int64(g.rng.IntN(58)) // whole seconds: at least 2 s old, unmistakably late
	}
	body := mustJSON(map[string]any{
		"from_uid": acc,
		"to_uid":   g.account(),
		"msg_type": 4,
		"time":     sec,
		"type":     g.rng.IntN(2),
	})
	return &Callback{Kind: ILinkStatus, Platform: "ilink", App: app, Path: "/v1/ilink/" + app + "/" + a.PathSecret, Body: body, ID: "body:" + digest(body), TimeMs: sec * 1000, Late: late, Account: acc}
}

func (g *generator) maximMessage(now time.Time, group bool) *Callback {
	k := g.maximK[int(g.seq)%len(g.maximK)]
	secret := g.cfg.MaximApps[k]
	from := g.rng.IntN(g.cfg.Accounts) + 100000
	id := fmt.Sprintf("%s%09d", g.runID, g.seq)
	m := map[string]any{
		"appId":     k,
		"msgId":     id,
		"from":      map[string]any{"uid": from},
		"to":        map[string]any{"uid": g.rng.IntN(g.cfg.Accounts) + 100000},
		"type":      "CHAT",
		"ctype":     "TEXT",
		"content":   g.text(),
		"ext":       `{"source":"loadgen"}`,
		"config":    "{}",
		"timestamp": now.UnixMilli(),
	}
	kind := MaximMessage
	if group {
		kind = MaximGroup
		m["type"] = "GROUPCHAT"
		m["to"] = map[string]any{"uid": 500000 + g.channel()}
	}
	body := mustJSON(m)
	return &Callback{Kind: kind, Platform: "maxim", App: k, Path: "/v1/maxim/" + k, Body: body, ID: id, TimeMs: now.UnixMilli(), Account: strconv.Itoa(from),
		sign: func(h http.Header, _ time.Time) { h.Set("signature", secret) }}
}
