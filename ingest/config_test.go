package ingest_test

import (
	"strings"
	"testing"

	"github.com/imarchive/imarchive/ingest"
)

func TestConfigParsing(t *testing.T) {
	apps, err := ingest.ParseILinkApps(" app1 = tok:sec , app2=t2:s2")
	if err != nil || apps["app1"] != (ingest.ILinkApp{Token: "tok", Secret: "sec"}) || apps["app2"].Secret != "s2" {
		t.Fatalf("ParseILinkApps: %v %v", apps, err)
	}
	for _, bad := range []string{"app1=tokonly-s3cr3t", "app1=:s3cr3t", "app1=t:", "app1=t:s,app1=t:s"} {
		_, err := ingest.ParseILinkApps(bad)
		if err == nil {
			t.Errorf("%q: want an error", bad)
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%q: the error shows the secret: %v", bad, err)
		}
	}
	ips, err := ingest.ParseAllowIPs("203.0.113.0/24, 198.51.100.7,::ffff:192.0.2.1, 2001:db8::/32")
	if err != nil || len(ips) != 4 {
		t.Fatalf("ParseAllowIPs: %v %v", ips, err)
	}
	if _, err := ingest.ParseAllowIPs("example.com"); err == nil {
		t.Error("a host name is not an address")
	}
	cfg := ingest.DefaultConfig()
	cfg.DedupeSize, cfg.AckTimeout = 0, 0
	err = cfg.Validate()
	for _, want := range []string{"no platform apps", "ack timeout", "dedupe size"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to say %q (every problem at once)", err, want)
		}
	}
	cfg = ingest.DefaultConfig()
	cfg.ILinkApps = map[string]ingest.ILinkApp{"a/b": {Token: "t", Secret: "s"}}
	if err := cfg.Validate(); err == nil {
		t.Error("an appkey with '/' cannot be a path segment")
	}
}
