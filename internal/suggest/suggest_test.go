package suggest

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	names := []string{"message_volume", "message_history", "message_totals", "top_channels", "top_servers", "raw_payload", "app_list"}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"mesage_volume", []string{"message_volume"}},                                // a letter missing
		{"message_volmue", []string{"message_volume"}},                               // two swapped
		{"top_channel", []string{"top_channels"}},                                    // a letter missing at the end
		{"volume", []string{"message_volume"}},                                       // a part of the name
		{"chanels", []string{"top_channels"}},                                        // a near miss of a part
		{"MESSAGE_HISTORY", nil},                                                     // the same name in capitals is no suggestion
		{"zzzzzz", nil},                                                              // nothing near
		{"message", []string{"message_history", "message_totals", "message_volume"}}, // at most three, sorted
		{"", nil},
	} {
		if got := Closest(tc.in, names); !slices.Equal(got, tc.want) {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got, want := Phrase("top_server", names), " (did you mean top_servers?)"; got != want {
		t.Errorf("Phrase = %q, want %q", got, want)
	}
	if got := Phrase("zzzz", names); got != "" {
		t.Errorf("Phrase of nothing near = %q, want empty", got)
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"list", "lsit", 1}, {"same", "same", 0},
	} {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
