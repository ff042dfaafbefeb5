package event_test

import (
	"testing"

	"github.com/imarchive/imarchive/event"
)

func TestIDDeterministicAndSeparated(t *testing.T) {
	a := event.ID("netease_qchat", "app", "48", "1")
	if a != event.ID("netease_qchat", "app", "48", "1") || len(a) != 32 {
		t.Fatalf("id %q not deterministic or not 32 hex digits", a)
	}
	// The separator keeps ("ab","c") and ("a","bc") apart.
	if event.ID("s", "ab", "c") == event.ID("s", "a", "bc") {
		t.Fatal("parts are not separated")
	}
	if event.ID("netease_qchat", "app", "48", "1") == event.ID("netease_qchat", "app2", "48", "1") {
		t.Fatal("apps share an id")
	}
}

func TestKey(t *testing.T) {
	cases := []struct {
		e    event.Event
		want string
	}{
		{event.Event{Source: "netease_qchat", App: "a", Kind: event.KindPresence, Actor: "u1", Target: event.Target{Server: "s"}}, "netease_qchat/a/account:u1"},
		{event.Event{Source: "netease_qchat", App: "a", Kind: event.KindMessage, Actor: "u1", Target: event.Target{Server: "s", Channel: "c"}}, "netease_qchat/a/channel:s/c"},
		{event.Event{Source: "netease_qchat", App: "a", Kind: event.KindMessageUpdate, Target: event.Target{Server: "s", Channel: "c"}}, "netease_qchat/a/channel:s/c"},
		{event.Event{Source: "ilink", App: "a", Kind: event.KindMessage, Actor: "u1", Target: event.Target{Group: "g"}}, "ilink/a/group:g"},
		{event.Event{Source: "ilink", App: "a", Kind: event.KindMessage, Actor: "u2", Target: event.Target{Account: "u1"}}, "ilink/a/conv:u1/u2"},
		{event.Event{Source: "ilink", App: "a", Kind: event.KindMessage, Actor: "u1", Target: event.Target{Account: "u2"}}, "ilink/a/conv:u1/u2"},
		{event.Event{Source: "netease_qchat", App: "a", Kind: event.KindServer, Actor: "u1", Target: event.Target{Server: "s"}}, "netease_qchat/a/server:s"},
	}
	for _, c := range cases {
		if got := c.e.Key(); got != c.want {
			t.Errorf("%+v: key %q, want %q", c.e, got, c.want)
		}
	}
}

func TestPresenceOnline(t *testing.T) {
	for op, want := range map[string]bool{
		event.OpLogin: true, event.OpHeartbeat: true, event.OpOnline: true,
		event.OpLogout: false, event.OpDropped: false, event.OpKickedMultiDevice: false, event.OpKickedBySDK: false,
		event.OpKickedByServer: false, event.OpReplaced: false, event.OpOffline: false,
	} {
		e := event.Event{Kind: event.KindPresence, Op: op}
		got, ok := e.PresenceOnline()
		if !ok || got != want {
			t.Errorf("%s: online=%v ok=%v, want %v", op, got, ok, want)
		}
	}
	if _, ok := (&event.Event{Kind: event.KindMessage, Op: event.OpLogin}).PresenceOnline(); ok {
		t.Error("a message is not a presence event")
	}
}
