package retention_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/imarchive/imarchive/compliance/retention"
)

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want retention.Policy
	}{
		{"", retention.Policy{}},
		{"messages_data=365", retention.Policy{"messages_data": 365}},
		{"messages=400d, raw_callbacks=off", retention.Policy{"messages_data": 400, "raw_callbacks_data": 0}},
		{"all=30,presence_events_data=7,raw_callbacks_data=OFF", retention.Policy{
			"messages_data": 30, "message_updates_data": 30, "notifications_data": 30, "presence_events_data": 7,
			"community_events_data": 30, "quick_comments_data": 30, "raw_callbacks_data": 0}},
	} {
		got, err := retention.ParsePolicy(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
		}
	}
	// Every problem at once.
	_, err := retention.ParsePolicy("messages_data=0,bogus=3,notifications=x,presence_events_data,messages=5,messages_data=6")
	if !errors.Is(err, retention.ErrPolicy) {
		t.Fatalf("want ErrPolicy, got %v", err)
	}
	for _, want := range []string{"messages_data=0", `"bogus"`, "notifications=x", "presence_events_data", "messages_data set twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	p, _ := retention.ParsePolicy("all=30,raw_callbacks=off")
	if s := p.String(); !strings.HasPrefix(s, "messages_data=30,") || !strings.HasSuffix(s, ",raw_callbacks_data=off") {
		t.Errorf("String() = %s", s)
	}
	back, err := retention.ParsePolicy(p.String())
	if err != nil || !reflect.DeepEqual(back, p) {
		t.Errorf("round trip: %v, %v", back, err)
	}
}

func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{"", "all=30", "messages=400d,raw_callbacks=off", "x=", "=1", ",,", "messages_data=9999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := retention.ParsePolicy(s)
		if err != nil {
			if !errors.Is(err, retention.ErrPolicy) {
				t.Fatalf("%q: error without ErrPolicy: %v", s, err)
			}
			return
		}
		// A parsed policy is valid and survives its own String form.
		if err := p.Validate(); err != nil {
			t.Fatalf("%q parsed into an invalid policy: %v", s, err)
		}
		back, err := retention.ParsePolicy(p.String())
		if err != nil {
			t.Fatalf("%q: String() %q does not parse: %v", s, p.String(), err)
		}
		for _, table := range retention.Tables {
			if back[table] != p[table] {
				t.Fatalf("%q: %s %d after a round trip, %d before", s, table, back[table], p[table])
			}
		}
	})
}

func TestHoldValidate(t *testing.T) {
	err := retention.Hold{Scope: "planet"}.Validate()
	if !errors.Is(err, retention.ErrHold) {
		t.Fatalf("want ErrHold, got %v", err)
	}
	for _, want := range []string{"app: required", `scope "planet"`, "subject: required", "by: required", "reason: required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	if err := (retention.Hold{App: "a", Scope: "account", Subject: "x", Actor: "me", Reason: "case 1"}).Validate(); err != nil {
		t.Error(err)
	}
}
