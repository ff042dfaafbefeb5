package loadgen

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imarchive/imarchive/normalize"
)

// Kinds of callback the generator makes, the keys of Config.Mix. The NetEase ones are the copy manual's
// eventTypes (seeds 002): 48 message, 47 login/logout/heartbeat, 81 message update with status 0
// (edit), 1 (recall) or 2 (delete), 49 custom system notification, 50–77 server, channel, member, role
// and permission events, 80 quick comment. An update, recall, deletion or quick comment is about a
// message this run sent before (a Maxim REPLACE likewise), so the compliance views show its history.
const (
	NeteaseMessage      = "netease_message"
	NeteasePresence     = "netease_presence"
	NeteaseUpdate       = "netease_update"
	NeteaseRecall       = "netease_recall"
	NeteaseDelete       = "netease_delete"
	NeteaseNotification = "netease_notification"
	NeteaseCommunity    = "netease_community"
	NeteaseQuickComment = "netease_quick_comment"
	ILinkMessage        = "ilink_message"
	ILinkGroup          = "ilink_group"
	ILinkStatus         = "ilink_status"
	MaximMessage        = "maxim_message"
	MaximGroup          = "maxim_group"
	MaximEdit           = "maxim_edit"
)

// AllKinds lists every kind, in a stable order.
var AllKinds = []string{NeteaseMessage, NeteasePresence, NeteaseUpdate, NeteaseRecall, NeteaseDelete, NeteaseNotification,
	NeteaseCommunity, NeteaseQuickComment, ILinkMessage, ILinkGroup, ILinkStatus, MaximMessage, MaximGroup, MaximEdit}

// DefaultMix weighs the kinds like a busy community: mostly channel messages, a fair share of presence,
// and some of everything else, so that every dashboard and compliance view has something to show.
const DefaultMix = "netease_message=45,netease_presence=18,netease_update=3,netease_recall=1,netease_delete=1," +
	"netease_notification=2,netease_community=4,netease_quick_comment=3," +
	"ilink_message=8,ilink_group=6,ilink_status=4,maxim_message=2,maxim_group=2,maxim_edit=1"

// AntispamShare is the share of NetEase messages and edits sent as flagged by the platform's antispam
// (antispam "true" with a yidunRes), for the antispam_hits and flagged_messages views.
const AntispamShare = 0.03

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

// platformOf is the platform of a kind: netease, ilink or maxim.
func platformOf(kind string) string {
	p, _, _ := strings.Cut(kind, "_")
	return p
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

	delivered bool // accepted at least once (guarded by the runner's mutex)
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
	lastMs   int64 // the greatest time stamped on an update, so that two never share one (their event_id)
	// Recent messages of this run, which updates, recalls, deletions, quick comments and Maxim edits are about.
	neteaseSent []sentMessage
	maximSent   []sentMessage
	// sessions holds each NetEase account's open connection (its consid), so that its heartbeats and
	// the copy that ends it (2–7) name the connection its login opened, as the platform's copies do.
	sessions map[string]string
}

// sentMessage is a message this run sent, remembered for the events about it.
type sentMessage struct {
	app, id, server, channel, from, to string
	ms                                 int64
}

// recentCap is how many sent messages the generator remembers per platform.
const recentCap = 256

func remember(list []sentMessage, m sentMessage) []sentMessage {
	if len(list) < recentCap {
		return append(list, m)
	}
	copy(list, list[1:])
	list[len(list)-1] = m
	return list
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
	switch platformOf(kind) {
	case "netease":
		if len(g.neteaseK) == 0 {
			return nil, fmt.Errorf("mix has %s but no NetEase app is configured", kind)
		}
	case "ilink":
		if len(g.ilinkK) == 0 {
			return nil, fmt.Errorf("mix has %s but no iLink app is configured", kind)
		}
	case "maxim":
		if len(g.maximK) == 0 {
			return nil, fmt.Errorf("mix has %s but no Maxim app is configured", kind)
		}
	}
	// An event about an earlier message needs one: until this run has sent one, send a message.
	switch kind {
	case NeteaseUpdate, NeteaseRecall, NeteaseDelete, NeteaseQuickComment:
		if len(g.neteaseSent) == 0 {
			kind = NeteaseMessage
		}
	case MaximEdit:
		if len(g.maximSent) == 0 {
			kind = MaximMessage
		}
	}
	var cb *Callback
	norm := normalize.Netease
	switch kind {
	case NeteaseMessage:
		cb = g.neteaseMessage(now)
	case NeteasePresence:
		cb = g.neteasePresence(now)
	case NeteaseUpdate:
		cb = g.neteaseUpdate(now, kind, "0")
	case NeteaseRecall:
		cb = g.neteaseUpdate(now, kind, "1")
	case NeteaseDelete:
		cb = g.neteaseUpdate(now, kind, "2")
	case NeteaseNotification:
		cb = g.neteaseNotification(now)
	case NeteaseCommunity:
		cb = g.neteaseCommunity(now)
	case NeteaseQuickComment:
		cb = g.neteaseQuickComment(now)
	case ILinkMessage, ILinkGroup:
		cb, norm = g.ilinkMessage(now, kind == ILinkGroup), normalize.ILink
	case ILinkStatus:
		cb, norm = g.ilinkStatus(now), normalize.ILink
	case MaximEdit:
		cb, norm = g.maximEdit(now), normalize.Maxim
	default:
		cb, norm = g.maximMessage(now, kind == MaximGroup), normalize.Maxim
	}
	if ev, err := norm(cb.App, cb.Body, now); err == nil {
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
	return func(h http.Header, now time.Time) { SignNetease(h, secret, body, now) }
}

// SignNetease sets the headers NetEase signs a callback with, as its manual describes them: CurTime
// (Unix ms), MD5 (hex MD5 of the body) and CheckSum (hex SHA1 of AppSecret + MD5 + CurTime). It is
// written from the manual, apart from the receiver's verifier, so each checks the other.
func SignNetease(h http.Header, secret string, body []byte, now time.Time) {
	ct := strconv.FormatInt(now.UnixMilli(), 10)
	sum := md5.Sum(body)
	md5hex := hex.EncodeToString(sum[:])
	check := sha1.Sum([]byte(secret + md5hex + ct))
	h.Set("CurTime", ct)
	h.Set("MD5", md5hex)
	h.Set("CheckSum", hex.EncodeToString(check[:]))
}

func (g *generator) neteaseMessage(now time.Time) *Callback {
	app, secret := g.neteaseApp()
	ch := g.channel()
	from := g.account()
	id := fmt.Sprintf("%s%09d", g.runID, g.seq)
	ms := now.UnixMilli()
	server, channel := strconv.Itoa(1000+ch%3), strconv.Itoa(2000+ch)
	g.neteaseSent = remember(g.neteaseSent, sentMessage{app: app, id: id, server: server, channel: channel, from: from, ms: ms})
	m := map[string]any{
		"eventType":      "48",
		"fromAccount":    from,
		"fromNick":       "nick-" + from,
		"fromClientType": []string{"AOS", "IOS", "WEB", "PC"}[g.rng.IntN(4)],
		"fromDeviceId":   "dev-" + from,
		"serverId":       server,
		"channelId":      channel,
		"msgIdServer":    id,
		"msgIdClient":    fmt.Sprintf("c-%s-%d", g.runID, g.seq),
		"msgType":        "TEXT",
		"body":           g.text(),
		"msgTimestamp":   strconv.FormatInt(ms, 10),
		"clientIp":       "10.0.0.1",
		"clientPort":     40000 + g.rng.IntN(20000),
		"time":           ms + int64(g.rng.IntN(50)),
	}
	g.antispam(m)
	body := mustJSON(m)
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
	// A login opens a connection; a heartbeat renews the account's open one (opening one when its login
	// copy was not sent); 2–7 end it, and the next login opens another.
	if g.sessions == nil {
		g.sessions = map[string]string{}
	}
	consid, open := g.sessions[app+"/"+acc]
	if typ == "1" || !open {
		consid = fmt.Sprintf("con-%s-%d", g.runID, g.seq)
	}
	if typ == "1" || typ == "8" {
		g.sessions[app+"/"+acc] = consid
	} else {
		delete(g.sessions, app+"/"+acc)
	}
	body := mustJSON(map[string]any{
		"eventType":  "47",
		"type":       typ,
		"accid":      acc,
		"clientType": []string{"AOS", "IOS", "WEB", "PC"}[len(consid)%4],
		"deviceId":   "dev-" + acc,
		"consid":     consid,
		"clientIp":   "10.0.0.2",
		"clientPort": strconv.Itoa(40000 + g.rng.IntN(20000)),
		"sdkVersion": "90000",
		"loginTime":  strconv.FormatInt(ms-int64(g.rng.IntN(3600000)), 10),
		"time":       strconv.FormatInt(ms, 10),
	})
	return &Callback{Kind: NeteasePresence, Platform: "netease_qchat", App: app, Path: "/v1/netease/" + app, Body: body, ID: fmt.Sprintf("consid:%s#%d", consid, g.seq), TimeMs: ms, Late: late, Account: acc, sign: neteaseSigner(secret, body)}
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
	to := m["to"].(map[string]any)["uid"].(int)
	if group {
		kind = MaximGroup
		m["type"] = "GROUPCHAT"
		to = 500000 + g.channel()
		m["to"] = map[string]any{"uid": to}
	}
	g.maximSent = remember(g.maximSent, sentMessage{app: k, id: id, from: strconv.Itoa(from), to: strconv.Itoa(to), ms: now.UnixMilli()})
	body := mustJSON(m)
	return &Callback{Kind: kind, Platform: "maxim", App: k, Path: "/v1/maxim/" + k, Body: body, ID: id, TimeMs: now.UnixMilli(), Account: strconv.Itoa(from),
		sign: func(h http.Header, _ time.Time) { h.Set("signature", secret) }}
}

// yidunRes is the shape of a flagged result in the manual's 81 example, with suggestion 2 (block).
const yidunRes = `{"result":"{\"antispam\":{\"dataId\":\"loadgen\",\"suggestion\":2,\"censorType\":0,\"isRelatedHit\":false,\"resultType\":1,\"labels\":[{\"label\":200}]}}","yidunBusType":0,"yidunApiVersion":2}`

// antispam marks a NetEase message or edit as flagged, for AntispamShare of them.
func (g *generator) antispam(m map[string]any) {
	if g.rng.Float64() < AntispamShare {
		m["antispam"] = "true"
		m["yidunRes"] = yidunRes
	} else {
		m["antispam"] = "false"
	}
}

// stamp is now in ms, later than every earlier stamp: two updates of one message never share a time
// (the time is part of their event_id).
func (g *generator) stamp(now time.Time) int64 {
	g.lastMs = max(g.lastMs+1, now.UnixMilli())
	return g.lastMs
}

func (g *generator) pickSent(list []sentMessage) sentMessage { return list[g.rng.IntN(len(list))] }

func (g *generator) neteaseSecret(app string) string { return g.cfg.NeteaseApps[app] }

// neteaseUpdate is eventType 81: the message edited (status 0), recalled (1) or deleted (2) by its sender.
func (g *generator) neteaseUpdate(now time.Time, kind, status string) *Callback {
	msg := g.pickSent(g.neteaseSent)
	ms := g.stamp(now)
	body := g.text()
	note := map[string]string{"0": "更新消息", "1": "撤回消息", "2": "删除消息"}[status]
	m := map[string]any{
		"eventType":      "81",
		"msgId":          msg.id,
		"serverId":       msg.server,
		"channelId":      msg.channel,
		"fromAccount":    msg.from,
		"fromClientType": "AOS",
		"consid":         fmt.Sprintf("con-%s-%d", g.runID, g.seq),
		"msg":            note,
		"body":           body,
		"ext":            "",
		"operatorExt":    "",
		"status":         status,
		"clientIp":       "10.0.0.3",
		"clientPort":     strconv.Itoa(40000 + g.rng.IntN(20000)),
		"time":           strconv.FormatInt(ms, 10),
	}
	if status == "0" {
		g.antispam(m)
	}
	b := mustJSON(m)
	return &Callback{Kind: kind, Platform: "netease_qchat", App: msg.app, Path: "/v1/netease/" + msg.app, Body: b,
		ID: fmt.Sprintf("%s@%d", msg.id, ms), TimeMs: ms, Account: msg.from, sign: neteaseSigner(g.neteaseSecret(msg.app), b)}
}

// neteaseNotification is eventType 49: a custom system notification to a server's channel.
func (g *generator) neteaseNotification(now time.Time) *Callback {
	app, secret := g.neteaseApp()
	ch := g.channel()
	from := g.account()
	id := fmt.Sprintf("%s%09d", g.runID, g.seq)
	ms := now.UnixMilli()
	b := mustJSON(map[string]any{
		"eventType":      "49",
		"type":           "100",
		"toType":         "2",
		"fromAccount":    from,
		"fromNick":       "nick-" + from,
		"fromClientType": "PC",
		"fromDeviceId":   "dev-" + from,
		"serverId":       strconv.Itoa(1000 + ch%3),
		"channelId":      strconv.Itoa(2000 + ch),
		"msgIdServer":    id,
		"msgIdClient":    fmt.Sprintf("n-%s-%d", g.runID, g.seq),
		"body":           "系统通知 " + g.text(),
		"attach":         `{"kind":"loadgen"}`,
		"msgTimestamp":   strconv.FormatInt(ms, 10),
		"clientIp":       "10.0.0.4",
		"clientPort":     40000 + g.rng.IntN(20000),
		"time":           ms + int64(g.rng.IntN(50)),
	})
	return &Callback{Kind: NeteaseNotification, Platform: "netease_qchat", App: app, Path: "/v1/netease/" + app, Body: b, ID: id, TimeMs: ms, Account: from, sign: neteaseSigner(secret, b)}
}

// neteaseQuickComment is eventType 80: a quick comment (an emoji reaction) added to, or now and then
// removed from, a message this run sent.
func (g *generator) neteaseQuickComment(now time.Time) *Callback {
	msg := g.pickSent(g.neteaseSent)
	from := g.account()
	ms := g.stamp(now)
	op := "1"
	if g.rng.IntN(5) == 0 {
		op = "2"
	}
	b := mustJSON(map[string]any{
		"eventType":        "80",
		"type":             "20",
		"toType":           "2",
		"fromAccount":      from,
		"fromNick":         "nick-" + from,
		"fromClientType":   "IOS",
		"fromDeviceId":     "dev-" + from,
		"msgSenderAccid":   msg.from,
		"msgIdServer":      msg.id,
		"msgIdClient":      fmt.Sprintf("q-%s-%d", g.runID, g.seq),
		"serverId":         msg.server,
		"channelId":        msg.channel,
		"consid":           fmt.Sprintf("con-%s-%d", g.runID, g.seq),
		"quickCommentType": strconv.Itoa(100 + g.rng.IntN(8)),
		"opeType":          op,
		"clientIp":         "10.0.0.5",
		"clientPort":       strconv.Itoa(40000 + g.rng.IntN(20000)),
		"msgTime":          strconv.FormatInt(msg.ms, 10),
		"time":             strconv.FormatInt(ms, 10),
	})
	return &Callback{Kind: NeteaseQuickComment, Platform: "netease_qchat", App: msg.app, Path: "/v1/netease/" + msg.app, Body: b,
		ID: "qc:" + digest(b), TimeMs: ms, Account: from, sign: neteaseSigner(g.neteaseSecret(msg.app), b)}
}

// neteaseCommunity is one of the QChat server, channel, member, role and permission events (50–77),
// with the fields of the manual's tables, on the servers and channels the messages use.
func (g *generator) neteaseCommunity(now time.Time) *Callback {
	app, secret := g.neteaseApp()
	ch := g.channel()
	actor, other := g.account(), g.account()
	server, channel := strconv.Itoa(1000+ch%3), strconv.Itoa(2000+ch)
	ms := g.stamp(now)
	m := map[string]any{
		"accid":    actor,
		"username": actor,
		"serverId": server,
		"consid":   fmt.Sprintf("con-%s-%d", g.runID, g.seq),
		"api":      "false",
		"time":     strconv.FormatInt(ms, 10),
	}
	list := func(accounts ...string) string { return string(mustJSON(accounts)) }
	switch n := g.rng.IntN(100); {
	case n < 4: // 50 server created
		m["eventType"], m["owner"], m["name"], m["applymode"], m["invitemode"], m["custom"], m["icon"] = "50", actor, "server "+server, "0", "1", "", ""
	case n < 10: // 51 server updated
		m["eventType"], m["owner"], m["name"], m["applymode"], m["invitemode"], m["custom"], m["icon"] = "51", actor, "服务器 "+server, "1", "1", "", ""
	case n < 24: // 53 members invited
		m["eventType"], m["inviteAccids"], m["msg"] = "53", []string{other}, "邀请加入服务器"
	case n < 36: // 54 an invitation accepted: actor joins
		m["eventType"], m["inviteAccid"] = "54", other
	case n < 44: // 56 an application to join
		m["eventType"], m["msg"] = "56", "申请加入"
	case n < 56: // 57 an application accepted: other joins
		m["eventType"], m["applyAccid"] = "57", other
	case n < 66: // 59 actor leaves
		m["eventType"] = "59"
	case n < 72: // 60 other kicked
		m["eventType"], m["kickAccids"] = "60", list(other)
	case n < 78: // 63 channel created
		m["eventType"], m["owner"], m["channelId"], m["name"], m["topic"], m["type"], m["viewmode"], m["custom"] = "63", actor, channel, "channel "+channel, "topic", "0", "0", ""
	case n < 86: // 65 channel updated (renamed)
		m["eventType"], m["channelId"], m["name"], m["topic"], m["custom"] = "65", channel, "频道 "+channel, "#topic", ""
	case n < 90: // 68 server role created
		m["eventType"], m["roleid"], m["name"], m["type"], m["priority"], m["allow"], m["deny"], m["auths"], m["ext"], m["icon"] = "68", strconv.Itoa(3000+ch), "moderators", "2", "3", "32764", "0", `{"1":1,"2":1}`, "", ""
	case n < 96: // 77 role members added
		m["eventType"], m["roleid"], m["memberAccids"] = "77", strconv.Itoa(3000+ch), list(other)
	default: // 74 a member's permissions in a channel
		m["eventType"], m["channelId"], m["identifyAccid"], m["identifyId"], m["allow"], m["deny"], m["auths"] = "74", channel, other, strconv.Itoa(4000+ch), "0", "0", `{"2":0}`
	}
	b := mustJSON(m)
	return &Callback{Kind: NeteaseCommunity, Platform: "netease_qchat", App: app, Path: "/v1/netease/" + app, Body: b,
		ID: "body:" + digest(b), TimeMs: ms, Account: actor, sign: neteaseSigner(secret, b)}
}

// maximEdit is a REPLACE of a message this run sent: the message's new content.
func (g *generator) maximEdit(now time.Time) *Callback {
	msg := g.pickSent(g.maximSent)
	secret := g.cfg.MaximApps[msg.app]
	from, _ := strconv.Atoi(msg.from)
	to, _ := strconv.Atoi(msg.to)
	b := mustJSON(map[string]any{
		"appId":     msg.app,
		"msgId":     msg.id,
		"from":      map[string]any{"uid": from},
		"to":        map[string]any{"uid": to},
		"type":      "REPLACE",
		"ctype":     "TEXT",
		"content":   "(edited) " + g.text(),
		"ext":       "{}",
		"config":    "",
		"timestamp": g.stamp(now),
	})
	return &Callback{Kind: MaximEdit, Platform: "maxim", App: msg.app, Path: "/v1/maxim/" + msg.app, Body: b, ID: "edit:" + digest(b),
		TimeMs: now.UnixMilli(), Account: msg.from, sign: func(h http.Header, _ time.Time) { h.Set("signature", secret) }}
}
