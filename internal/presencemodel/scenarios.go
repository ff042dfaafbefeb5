package presencemodel

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// Callback is one presence callback as the platform POSTs it.
type Callback struct {
	Source string // event.SourceNetease (eventType 47) or event.SourceILink (msg_type 4 status)
	Body   []byte
}

// Want is an expected state, written by hand from the manual (never computed by the model).
type Want struct {
	Account            string
	Source             string // event.SourceNetease unless set
	Device, ClientType string // devices
	ConsID             string // connections
	Status             string // online, expired, offline
	DevicesOnline      int    // accounts
	ConnectionsOnline  int    // accounts and devices
	Reason             string // accounts and devices: offline_reason; connections: the op of the last applied copy
}

// Scenario is one of the manual's cases: callbacks in arrival order and what they must give.
type Scenario struct {
	Name        string
	Manual      string // the manual's words the case follows, or the reading it tests
	Callbacks   []Callback
	Stale       []bool // the verdict of each callback, in order
	Accounts    []Want
	Devices     []Want
	Connections []Want
}

// App is the application every scenario's callbacks belong to (NetEase appkey and iLink appkey).
const App = "app1"

// ExpiryMs is the heartbeat period plus grace the scenarios assume (NetEase: 30 + 5 minutes).
const ExpiryMs = int64(35 * time.Minute / time.Millisecond)

// Normalize makes the canonical event of a callback, as serve does.
func (cb Callback) Normalize(receivedAt time.Time) (event.Event, error) {
	if cb.Source == event.SourceILink {
		return normalize.ILink(App, cb.Body, receivedAt)
	}
	return normalize.Netease(App, cb.Body, receivedAt)
}

// NetEase is a 47 copy shaped like the manual's examples; an empty consid or device is left out.
func NetEase(typ, accid, consid, device, clientType string, at, loginTime int64) Callback {
	body := fmt.Sprintf(`{"customTag":"%s-%d","customClientType":"0","eventType":"47","type":"%s",`, accid, at, typ)
	if device != "" {
		body += fmt.Sprintf(`"deviceId":"%s",`, device)
	}
	body += fmt.Sprintf(`"sdkHumanVersion":"9.0.0","clientType":"%s",`, clientType)
	if consid != "" {
		body += fmt.Sprintf(`"consid":"%s",`, consid)
	}
	if loginTime != 0 {
		body += fmt.Sprintf(`"loginTime":"%d",`, loginTime)
	}
	body += fmt.Sprintf(`"clientSession":"s-%s","clientIp":"183.136.182.140","clientPort":"51662","accid":"%s","sdkVersion":"250","time":"%d"}`,
		consid, accid, at)
	return Callback{Source: event.SourceNetease, Body: []byte(body)}
}

// ILink is an iLink status push (manual 000 §4.3): from_uid went online (1) or offline (0) at atSec.
func ILink(typ, uid string, atSec int64) Callback {
	return Callback{Source: event.SourceILink,
		Body: fmt.Appendf(nil, `{"from_uid":"%s","to_uid":"413","msg_type":4,"time":%d,"type":%s}`, uid, atSec, typ)}
}

// Scenarios are the manual's cases, on accounts of their own (prefix p, so that several runs can share
// a database), with times around now (Unix ms).
func Scenarios(p string, now int64) []Scenario {
	t := now - 10*60*1000 // ten minutes ago: inside the expiry
	s := now / 1000
	a := func(name string) string { return p + name }
	return []Scenario{
		{
			Name:   "reconnect with type 7",
			Manual: "7:重复连接导致的旧连接自动断开,一般出现在弱网环境导致的自动重连 — the old connection closes; the new one is the account's",
			Callbacks: []Callback{
				NetEase("1", a("re"), "old", "d1", "AOS", t, t-4),
				NetEase("1", a("re"), "new", "d1", "AOS", t+5000, t+4990),
				NetEase("7", a("re"), "old", "d1", "AOS", t+5300, t-4),
			},
			Stale:       []bool{false, false, false},
			Accounts:    []Want{{Account: a("re"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
			Devices:     []Want{{Account: a("re"), Device: "d1", ClientType: "AOS", Status: "online", ConnectionsOnline: 1}},
			Connections: []Want{{Account: a("re"), ConsID: "old", Status: "offline", Reason: event.OpReplaced}, {Account: a("re"), ConsID: "new", Status: "online", Reason: event.OpLogin}},
		},
		{
			Name:   "reconnect with type 7 arriving before the new login",
			Manual: "由于登录和登出的事件抄送并不一定成对出现,可能出现乱序 — order of arrival across connections does not matter",
			Callbacks: []Callback{
				NetEase("7", a("re2"), "old", "d1", "IOS", t+5300, t-4),
				NetEase("1", a("re2"), "new", "d1", "IOS", t+5000, t+4990),
				NetEase("1", a("re2"), "old", "d1", "IOS", t, t-4), // the old connection's login, last and older: stale
			},
			Stale:       []bool{false, false, true},
			Accounts:    []Want{{Account: a("re2"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
			Connections: []Want{{Account: a("re2"), ConsID: "old", Status: "offline", Reason: event.OpReplaced}, {Account: a("re2"), ConsID: "new", Status: "online", Reason: event.OpLogin}},
		},
		{
			Name:   "multi-device kick (4)",
			Manual: "4:互踢 — the phone is kicked by the PC's login under the multi-device policy; the PC stays online",
			Callbacks: []Callback{
				NetEase("1", a("kick4"), "phone", "dp", "AOS", t, t),
				NetEase("1", a("kick4"), "pc", "dc", "PC", t+10000, t+10000),
				NetEase("4", a("kick4"), "phone", "dp", "AOS", t+10500, t),
			},
			Stale:    []bool{false, false, false},
			Accounts: []Want{{Account: a("kick4"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
			Devices: []Want{
				{Account: a("kick4"), Device: "dp", ClientType: "AOS", Status: "offline", Reason: event.OpKickedMultiDevice},
				{Account: a("kick4"), Device: "dc", ClientType: "PC", Status: "online", ConnectionsOnline: 1},
			},
			Connections: []Want{{Account: a("kick4"), ConsID: "phone", Status: "offline", Reason: event.OpKickedMultiDevice}},
		},
		{
			Name:   "SDK kicks the other end (5)",
			Manual: "5:SDK 主动踢掉用户登录的其他端",
			Callbacks: []Callback{
				NetEase("1", a("kick5"), "ios", "di", "IOS", t, t),
				NetEase("1", a("kick5"), "web", "dw", "WEB", t+1000, t+1000),
				NetEase("5", a("kick5"), "ios", "di", "IOS", t+2000, t),
			},
			Stale:    []bool{false, false, false},
			Accounts: []Want{{Account: a("kick5"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
			Devices: []Want{
				{Account: a("kick5"), Device: "di", ClientType: "IOS", Status: "offline", Reason: event.OpKickedBySDK},
				{Account: a("kick5"), Device: "dw", ClientType: "WEB", Status: "online", ConnectionsOnline: 1},
			},
		},
		{
			Name:      "server kick (6)",
			Manual:    "6:服务器主动将用户踢下线 — its only connection ends, so the account is offline",
			Callbacks: []Callback{NetEase("1", a("kick6"), "c1", "d6", "AOS", t, t), NetEase("6", a("kick6"), "c1", "d6", "AOS", t+60000, t)},
			Stale:     []bool{false, false},
			Accounts:  []Want{{Account: a("kick6"), Status: "offline", Reason: event.OpKickedByServer}},
			Devices:   []Want{{Account: a("kick6"), Device: "d6", ClientType: "AOS", Status: "offline", Reason: event.OpKickedByServer}},
		},
		{
			Name:      "phone and PC log in, the PC logs out",
			Manual:    "an account is online while any of its connections is",
			Callbacks: []Callback{NetEase("1", a("two"), "phone", "dp", "AOS", t, t), NetEase("1", a("two"), "pc", "dc", "PC", t+1000, t+1000), NetEase("2", a("two"), "pc", "dc", "PC", t+2000, t+1000)},
			Stale:     []bool{false, false, false},
			Accounts:  []Want{{Account: a("two"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
			Devices:   []Want{{Account: a("two"), Device: "dc", ClientType: "PC", Status: "offline", Reason: event.OpLogout}},
		},
		{
			Name:      "equal times, login arrives first: the logout is applied",
			Manual:    "如果新到达的登录登出抄送的时间戳小于已保存的'在线状态时间戳',则需要忽略 — only a smaller time is ignored; an equal one is applied, in arrival order",
			Callbacks: []Callback{NetEase("1", a("eq1"), "c", "d", "AOS", t, t), NetEase("2", a("eq1"), "c", "d", "AOS", t, t)},
			Stale:     []bool{false, false},
			Accounts:  []Want{{Account: a("eq1"), Status: "offline", Reason: event.OpLogout}},
		},
		{
			Name:      "equal times, logout arrives first: the login is applied",
			Manual:    "the mirror case: arrival order decides, not the op or the event_id",
			Callbacks: []Callback{NetEase("2", a("eq2"), "c", "d", "AOS", t, t), NetEase("1", a("eq2"), "c", "d", "AOS", t, t)},
			Stale:     []bool{false, false},
			Accounts:  []Want{{Account: a("eq2"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
		},
		{
			Name:      "iLink online and offline in the same second",
			Manual:    "iLink status times are seconds and carry no connection: the account's own stamp; the later arrival is applied",
			Callbacks: []Callback{ILink("1", a("i1"), s), ILink("0", a("i1"), s)},
			Stale:     []bool{false, false},
			Accounts:  []Want{{Account: a("i1"), Source: event.SourceILink, Status: "offline", Reason: event.OpOffline}},
		},
		{
			Name:      "iLink offline and online in the same second",
			Manual:    "the mirror case",
			Callbacks: []Callback{ILink("0", a("i2"), s), ILink("1", a("i2"), s)},
			Stale:     []bool{false, false},
			Accounts:  []Want{{Account: a("i2"), Source: event.SourceILink, Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
		},
		{
			Name:      "iLink: an older status arriving late is ignored",
			Manual:    "the same rule on the account's stamp; iLink online states do not expire",
			Callbacks: []Callback{ILink("1", a("i3"), s-86400), ILink("0", a("i3"), s-90000)},
			Stale:     []bool{false, true},
			Accounts:  []Want{{Account: a("i3"), Source: event.SourceILink, Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
		},
		{
			Name:   "heartbeat expiry",
			Manual: "心跳续约事件;该事件每30分钟同步一次 … 如网络抖动导致用户掉线抄送丢失时,可以通过心跳续约抄送判断用户是否已下线",
			Callbacks: []Callback{
				NetEase("1", a("hb-lapsed"), "c", "d", "AOS", now-50*60000, now-50*60000),
				NetEase("8", a("hb-lapsed"), "c", "d", "AOS", now-40*60000, now-50*60000),
				NetEase("1", a("hb-fresh"), "c", "d", "AOS", now-50*60000, now-50*60000),
				NetEase("8", a("hb-fresh"), "c", "d", "AOS", now-10*60000, now-50*60000),
				NetEase("1", a("hb-mixed"), "old", "d1", "AOS", now-50*60000, now-50*60000),
				NetEase("1", a("hb-mixed"), "new", "d2", "PC", now-5*60000, now-5*60000),
			},
			Stale: []bool{false, false, false, false, false, false},
			Accounts: []Want{
				{Account: a("hb-lapsed"), Status: "expired"},
				{Account: a("hb-fresh"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1},
				{Account: a("hb-mixed"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1},
			},
			Devices:     []Want{{Account: a("hb-mixed"), Device: "d1", ClientType: "AOS", Status: "expired"}},
			Connections: []Want{{Account: a("hb-fresh"), ConsID: "c", Status: "online", Reason: event.OpHeartbeat}},
		},
		{
			Name:      "heartbeat with no login",
			Manual:    "a renewal says the connection is online (its login copy may be lost)",
			Callbacks: []Callback{NetEase("8", a("hb-only"), "c", "d", "PC", t, t-3600000)},
			Stale:     []bool{false},
			Accounts:  []Want{{Account: a("hb-only"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
		},
		{
			Name:      "type 7 of a connection never seen logging in",
			Manual:    "an ended connection we never saw begin: it is offline, and changes nothing for the others",
			Callbacks: []Callback{NetEase("1", a("unseen"), "live", "d1", "AOS", t, t), NetEase("7", a("unseen"), "ghost", "d1", "AOS", t+1000, t-5000), NetEase("2", a("unseen-only"), "ghost", "d", "AOS", t, t-5000)},
			Stale:     []bool{false, false, false},
			Accounts: []Want{
				{Account: a("unseen"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1},
				{Account: a("unseen-only"), Status: "offline", Reason: event.OpLogout},
			},
			Connections: []Want{{Account: a("unseen"), ConsID: "ghost", Status: "offline", Reason: event.OpReplaced}},
		},
		{
			Name:   "copies without consid",
			Manual: "no consid: the stamp is the device's (deviceId, clientType); neither: the account's",
			Callbacks: []Callback{
				NetEase("1", a("nocons"), "", "d1", "AOS", t, 0),
				NetEase("2", a("nocons"), "", "d1", "AOS", t+1000, 0),
				NetEase("1", a("nocons"), "", "d2", "PC", t+500, 0), // another device: its own stamp, not stale
				NetEase("1", a("bare"), "", "", "", t+1000, 0),
				NetEase("2", a("bare"), "", "", "", t, 0), // older, same (account) stamp: stale
			},
			Stale: []bool{false, false, false, false, true},
			Accounts: []Want{
				{Account: a("nocons"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1},
				{Account: a("bare"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1},
			},
			Devices: []Want{{Account: a("nocons"), Device: "d1", ClientType: "AOS", Status: "offline", Reason: event.OpLogout}},
		},
		{
			Name:        "a late logout of an older time is stale",
			Manual:      "忽略新到达的登录/登出抄送 whose time is smaller than the stamp",
			Callbacks:   []Callback{NetEase("1", a("late"), "c", "d", "AOS", t+10000, t+10000), NetEase("3", a("late"), "c", "d", "AOS", t, t+10000)},
			Stale:       []bool{false, true},
			Accounts:    []Want{{Account: a("late"), Status: "online", DevicesOnline: 1, ConnectionsOnline: 1}},
			Connections: []Want{{Account: a("late"), ConsID: "c", Status: "online", Reason: event.OpLogin}},
		},
	}
}

// RandomHistory is presence copies of accounts NetEase and iLink accounts named with prefix: several
// devices and connections per NetEase account, every type 1–8, some copies without consid or without
// any device, times from a narrow range after one of bases (Unix ms, chosen per account) so that equal
// times are common.
func RandomHistory(rng *rand.Rand, prefix string, accounts int, bases ...int64) []Callback {
	var out []Callback
	for a := range accounts {
		base := bases[rng.IntN(len(bases))]
		if rng.IntN(4) == 0 {
			uid := fmt.Sprint(prefix, "il", a)
			for range 1 + rng.IntN(12) {
				out = append(out, ILink(fmt.Sprint(rng.IntN(2)), uid, base/1000+int64(rng.IntN(6))))
			}
			continue
		}
		accid := fmt.Sprint(prefix, "ne", a)
		devices := [][2]string{{"dA", "AOS"}, {"dI", "IOS"}, {"dP", "PC"}}[:1+rng.IntN(3)]
		for range 1 + rng.IntN(25) {
			d := devices[rng.IntN(len(devices))]
			consid := fmt.Sprintf("%s-%s-%d", accid, d[0], rng.IntN(3))
			switch rng.IntN(12) {
			case 0:
				consid = "" // keyed by the device
			case 1:
				consid, d = "", [2]string{} // keyed by the account
			}
			at := base + int64(rng.IntN(12))*1000
			out = append(out, NetEase(fmt.Sprint(1+rng.IntN(8)), accid, consid, d[0], d[1], at, base-int64(rng.IntN(3))*1000))
		}
	}
	return out
}
