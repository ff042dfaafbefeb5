package dashboards_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	sdkdash "github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/imarchive/imarchive/dashboards"
)

var registerOnce sync.Once

// registerSDK teaches the SDK's runtime every core panel and query type, and ours for ClickHouse.
func registerSDK() {
	registerOnce.Do(func() {
		plugins.RegisterDefaultPlugins()
		cog.NewRuntime().RegisterDataqueryVariant(dashboards.CHQueryVariant())
	})
}

// TestRoundTripThroughSDK: every committed dashboard unmarshals strictly into the SDK's
// sdkdash.Dashboard (no field the SDK does not know, every panel's options and every target typed:
// ClickHouse targets as dashboards.CHQuery, Prometheus ones as prometheus.Dataquery), marshals back to
// the same JSON value, and equals the dashboard the code builds.
func TestRoundTripThroughSDK(t *testing.T) {
	registerSDK()
	for _, name := range dashboards.Names() {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("json/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			// json.Unmarshal, not the SDK's UnmarshalJSONStrict: in v0.0.22 the strict path returns a nil
			// cog.BuildErrors as a non-nil error from Panel.UnmarshalJSONStrict, and
			// PanelOrRowPanel.UnmarshalJSONStrict then drops every panel without a word. A field the SDK
			// does not know is caught all the same: it is lost, so the JSON marshalled back differs.
			var d sdkdash.Dashboard
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			back, err := dashboards.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(back, &got); err != nil {
				t.Fatal(err)
			}
			if p := firstDifference("", want, got); p != "" {
				t.Errorf("marshalled back, the dashboard differs at %s", p)
			}
			checkTargetTypes(t, d)
		})
	}
}

func checkTargetTypes(t *testing.T, d sdkdash.Dashboard) {
	t.Helper()
	n := 0
	for _, pr := range d.Panels {
		if pr.Panel == nil {
			continue
		}
		p := pr.Panel
		for _, tg := range p.Targets {
			n++
			var ok bool
			switch *p.Datasource.Type {
			case dashboards.ClickHouseType:
				var q dashboards.CHQuery
				if q, ok = tg.(dashboards.CHQuery); ok {
					if err := q.Validate(); err != nil {
						t.Errorf("panel %q: %v", *p.Title, err)
					}
				}
			case dashboards.PrometheusType:
				switch tg.(type) {
				case prometheus.Dataquery, *prometheus.Dataquery: // built as a value, read back as a pointer
					ok = true
				}
			}
			if _, unknown := tg.(variants.UnknownDataquery); unknown || !ok {
				t.Errorf("panel %q: target read as %T, not as its datasource's query type", *p.Title, tg)
			}
		}
	}
	if n == 0 {
		t.Error("no target read")
	}
}

// firstDifference is the path of the first place two JSON values differ, or "".
func firstDifference(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if p := firstDifference(path+"."+k, av[k], bv[k]); p != "" {
				return p
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return path
		}
		for i := range av {
			if p := firstDifference(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i]); p != "" {
				return p
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s (%v, read back as %v)", path, a, b)
	}
	return ""
}
