package ilink_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/imarchive/imarchive/connectors/ilink"
	"github.com/imarchive/imarchive/connectors/ilink/ilinktest"
	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/normalize"
)

// TestSubscriptionRequestsAsTheManual: the subscription calls send exactly §5.11's and §5.13's fields
// (testdata/manual/ham_*subscribe.request.json), with the table's action_type, and a cancel of a
// topic sends no qos.
func TestSubscriptionRequestsAsTheManual(t *testing.T) {
	fake, c, _ := fixture(t)
	ctx := context.Background()
	for _, st := range []struct {
		endpoint, golden string
		call             func() (ilink.Subscription, error)
	}{
		{ilinktest.SubscribeUsers, "ham_user_subscribe.request.json", func() (ilink.Subscription, error) {
			return c.SubscribeUsers(ctx, []string{"414", " 415", "414"}, true)
		}},
		{ilinktest.SubscribeUsers, "ham_user_unsubscribe.request.json", func() (ilink.Subscription, error) {
			return c.SubscribeUsers(ctx, []string{"414", "415"}, false)
		}},
		{ilinktest.Topics, "ham_topic_subscribe.request.json", func() (ilink.Subscription, error) { return c.SubscribeTopic(ctx, "asda", 1, true) }},
		{ilinktest.Topics, "ham_topic_unsubscribe.request.json", func() (ilink.Subscription, error) { return c.SubscribeTopic(ctx, "asda", 1, false) }},
	} {
		before := len(fake.Requests())
		sub, err := st.call()
		if err != nil || sub.Answer.Code != ilink.CodeOK {
			t.Fatalf("%s: %+v, %v", st.golden, sub, err)
		}
		reqs := fake.Requests()[before:]
		last := reqs[len(reqs)-1]
		if last.Endpoint != st.endpoint {
			t.Fatalf("%s: sent to %s, want %s", st.golden, last.Endpoint, st.endpoint)
		}
		if want := readJSON(t, st.golden); !reflect.DeepEqual(jsonOf(t, last.Raw), want) {
			t.Errorf("%s: sent %s\nwant %v", st.golden, last.Raw, want)
		}
		if last.Query.Get("access_token") == "" {
			t.Errorf("%s: no access_token", st.golden)
		}
	}
	if got := fake.UserSubscriptions(uid); len(got) != 0 {
		t.Errorf("after subscribe and cancel: subscribed to %v", got)
	}
}

// TestSubscribeUsersTableOrExample: §5.11's table says action_type 2, its example 7. The client sends
// 2; a platform that answers it 1012 (无效的操作) gets 7, and the client says which one it took.
func TestSubscribeUsersTableOrExample(t *testing.T) {
	fake, c, _ := fixture(t)
	fake.UserSubscribeAction(ilink.ActionSubscribeUsersExample)
	sub, err := c.SubscribeUsers(context.Background(), []string{"414"}, true)
	if err != nil || sub.ActionType != 7 || !reflect.DeepEqual(sub.Refused, []int{2}) {
		t.Fatalf("subscribe on a platform taking 7: %+v, %v", sub, err)
	}
	if got := fake.UserSubscriptions(uid); !reflect.DeepEqual(got, []string{"414"}) {
		t.Errorf("subscribed to %v", got)
	}
	if n2, n7 := fake.Count(ilinktest.SubscribeUsers), fake.Count(ilinktest.SubscribeUsersExample); n2 != 1 || n7 != 1 {
		t.Errorf("requests with 2: %d, with 7: %d; want one each", n2, n7)
	}
	// A platform taking the table's 2 is never sent 7.
	fake2, c2, _ := fixture(t)
	if sub, err := c2.SubscribeUsers(context.Background(), []string{"414"}, true); err != nil || sub.ActionType != 2 || len(sub.Refused) != 0 {
		t.Fatalf("subscribe: %+v, %v", sub, err)
	}
	if n := fake2.Count(ilinktest.SubscribeUsersExample); n != 0 {
		t.Errorf("%d requests with 7", n)
	}
}

// TestSubscriptionErrors: the manual's codes come back with their meaning (1011 too many
// subscriptions, 1001 an unknown UID, 1012 when neither action type is taken), and requests the manual
// forbids are refused before anything is sent (a subject with # or +, QoS outside 0–2, no UIDs).
func TestSubscriptionErrors(t *testing.T) {
	fake, c, _ := fixture(t)
	ctx := context.Background()
	fake.SubscriptionLimit(2)
	if _, err := c.SubscribeUsers(ctx, []string{"414", "415"}, true); err != nil {
		t.Fatal(err)
	}
	_, err := c.SubscribeTopic(ctx, "asda", 0, true)
	var ae *ilink.APIError
	if !errors.As(err, &ae) || ae.Code != ilink.CodeSubscriptionLimit || !errors.Is(err, ilink.ErrRateLimited) {
		t.Errorf("over the limit: %v, want 1011", err)
	}
	if _, err := c.SubscribeUsers(ctx, []string{"nobody"}, true); !errors.As(err, &ae) || ae.Code != ilink.CodeNoUID {
		t.Errorf("an unknown UID: %v, want 1001", err)
	}
	fake.UserSubscribeAction(9)
	sub, err := c.SubscribeUsers(ctx, []string{"416"}, true)
	if !errors.As(err, &ae) || ae.Code != ilink.CodeBadOperation || sub.ActionType != 7 || !reflect.DeepEqual(sub.Refused, []int{2}) {
		t.Errorf("neither action type taken: %+v, %v", sub, err)
	}
	before := len(fake.Requests())
	for name, call := range map[string]func() error{
		"subject with #": func() error { _, err := c.SubscribeTopic(ctx, "a#b", 0, true); return err },
		"subject with +": func() error { _, err := c.SubscribeTopic(ctx, "a+b", 0, false); return err },
		"empty subject":  func() error { _, err := c.SubscribeTopic(ctx, " ", 0, true); return err },
		"QoS 3":          func() error { _, err := c.SubscribeTopic(ctx, "asda", 3, true); return err },
		"QoS -1":         func() error { _, err := c.SubscribeTopic(ctx, "asda", -1, true); return err },
		"no UIDs":        func() error { _, err := c.SubscribeUsers(ctx, []string{" ", ""}, true); return err },
	} {
		if err := call(); !errors.Is(err, ilink.ErrBadSubscription) {
			t.Errorf("%s: %v, want ErrBadSubscription", name, err)
		}
	}
	if n := len(fake.Requests()) - before; n != 0 {
		t.Errorf("%d requests sent for requests the manual forbids", n)
	}
}

// TestStatusPushesNeedASubscription: the platform pushes a user's status changes (§4.3) and a topic's
// messages (§4.4) only to a UID subscribed to them. The fake does what the manual says; each push is
// what testdata/manual/push_*.json shows, and ingest reads it as a presence event or a topic message.
func TestStatusPushesNeedASubscription(t *testing.T) {
	clk := newClock()
	fake, c, _ := fixture(t)
	fake.SetClock(clk.Now)
	var mu sync.Mutex
	var got [][]byte
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		io.WriteString(w, `{"code":0}`)
	}))
	defer callback.Close()
	fake.Register(uid, callback.URL, "abcdefg")
	ctx := context.Background()
	pushed := func() [][]byte { mu.Lock(); defer mu.Unlock(); return append([][]byte(nil), got...) }

	fake.SetState("414", 1)
	fake.Publish("414", "asda", "hello")
	if n := len(pushed()); n != 0 {
		t.Fatalf("%d pushes before any subscription", n)
	}
	if _, err := c.SubscribeUsers(ctx, []string{"414"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubscribeTopic(ctx, "asda", 1, true); err != nil {
		t.Fatal(err)
	}
	fake.SetState("414", 0) // offline…
	fake.SetState("414", 1) // …and online again
	fake.SetState("415", 1) // not subscribed
	fake.Publish("414", "asda", "hello")
	fake.Publish("414", "other", "not subscribed")
	bodies := pushed()
	if len(bodies) != 3 {
		t.Fatalf("%d pushes, want 2 status changes and 1 topic message: %q", len(bodies), bodies)
	}
	if !reflect.DeepEqual(jsonOf(t, bodies[1]), readJSON(t, "push_status.json")) {
		t.Errorf("status push %s, want push_status.json", bodies[1])
	}
	if !reflect.DeepEqual(jsonOf(t, bodies[2]), readJSON(t, "push_topic.json")) {
		t.Errorf("topic push %s, want push_topic.json", bodies[2])
	}
	at := time.Date(2024, 5, 1, 8, 0, 1, 0, time.UTC)
	online, err := normalize.ILink(appKey, bodies[1], at)
	if err != nil || online.Kind != event.KindPresence || online.Op != event.OpOnline || online.Actor != "414" || online.OccurredAtMs != clk.Now().UnixMilli() {
		t.Errorf("status push read as %+v, %v", online, err)
	}
	topic, err := normalize.ILink(appKey, bodies[2], at)
	if err != nil || topic.Kind != event.KindMessage || topic.Target.Group != "asda" || topic.Body != "hello" {
		t.Errorf("topic push read as %+v, %v", topic, err)
	}
	// Cancelled: no more pushes.
	if _, err := c.SubscribeUsers(ctx, []string{"414"}, false); err != nil {
		t.Fatal(err)
	}
	fake.SetState("414", 0)
	if n := len(pushed()); n != 3 {
		t.Errorf("%d pushes after the cancel, want still 3", n)
	}
}
