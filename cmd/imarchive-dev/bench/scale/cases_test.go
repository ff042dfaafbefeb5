package scale

import (
	"testing"
	"time"
)

// TestCasesBind: every named query and every ClickHouse panel and variable of the committed
// dashboards binds its parameters (filters on All, declared defaults, probed values), so no row of
// the table is an error of the bench's own making.
func TestCasesBind(t *testing.T) {
	ranges := []time.Duration{24 * time.Hour, 90 * 24 * time.Hour}
	named, err := NamedCases(ranges)
	if err != nil {
		t.Fatal(err)
	}
	panels, err := PanelCases("../../../../dashboards/json", ranges)
	if err != nil {
		t.Fatal(err)
	}
	if len(named) == 0 || len(panels) == 0 {
		t.Fatalf("%d named cases, %d panel cases", len(named), len(panels))
	}
	end := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	probed := map[string]string{
		"start": end.Add(-90 * 24 * time.Hour).Format(time.RFC3339), "end": end.Format(time.RFC3339),
		"busy_channel": "c1", "busy_server": "s1", "busy_group_app": "il-a", "busy_group": "g1", "busy_account": "a1",
		"busy_conv_app": "il-a", "busy_conv_a": "a1", "busy_conv_b": "a2", "edited_app": "nim-a", "edited_msg": "m1",
		"repeated_event": "e1",
	}
	for _, c := range append(named, panels...) {
		if _, err := c.Params(end, probed); err != nil {
			t.Errorf("%s (%v): %v", c.Name, c.Range, err)
		}
	}
}
