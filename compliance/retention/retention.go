// Package retention deletes archived rows older than a per-table retention, except rows under a
// legal hold, and keeps the holds.
//
// # Why a retention pass and not a TTL
//
// A ClickHouse TTL cannot consult another table (no subqueries in TTL expressions), so it cannot know
// about legal holds, and it runs whenever merges run: a hold placed a minute before a merge would come
// too late, and nothing would record what was removed. So retention is a pass, run by
// imarchive retention apply (from cron, or by hand): per table, a lightweight DELETE of the rows received
// before now minus its days, except the events held_events lists (schema 0062), read when the DELETE
// runs. Each pass is recorded in retention_runs — cutoff, rows deleted, rows kept under hold, who —
// and the policy in force in schema_retention. Deleted rows disappear from every query at once; their
// space is reclaimed by merges.
//
// Age is counted from received_at, the one time every row has and no platform can get wrong (a Maxim
// message has no send time; a platform clock may be off). A raw record is held when the event
// normalized from it is. The tables' aggregate companions (message_update_latest,
// presence_connection_agg, presence_connection_last) keep one state per message or connection and are
// not retained: the online state needs them. raw_chain is never retained: its rows are small and they are the proof that the
// raw archive is complete (imarchive audit verify counts raw records removed by a recorded pass as
// expired, not as tampering).
//
// # Legal holds
//
// A hold names an application and an account, channel, group or server; every event about it (schema
// view archive_subjects: a message is about its sender, recipient, channel, server and group, an edit
// also about the edited message's sender, …) is exempt from retention until the hold is released.
// Holds and releases are rows of the append-only legal_holds table, each with who and why.
package retention

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxDays is the longest retention a policy may give (100 years); longer is "off".
const MaxDays = 36500

// TimeColumn is the column every retained table's age is counted from.
const TimeColumn = "received_at"

// Tables are the storage tables retention applies to, in the order a pass visits them.
var Tables = []string{
	"messages_data", "message_updates_data", "notifications_data", "presence_events_data",
	"community_events_data", "quick_comments_data", "raw_callbacks_data",
}

// aliases lets a policy name a table by the view analysts read.
var aliases = map[string]string{
	"messages": "messages_data", "message_updates": "message_updates_data", "notifications": "notifications_data",
	"presence_events": "presence_events_data", "community_events": "community_events_data",
	"quick_comments": "quick_comments_data", "raw_callbacks": "raw_callbacks_data",
}

// Policy is the retention in days per storage table; a table not in it, or at 0, is kept forever.
type Policy map[string]int

// ErrPolicy is returned (wrapped) by ParsePolicy and Validate.
var ErrPolicy = errors.New("bad retention policy")

// ParsePolicy reads "TABLE=DAYS|off[,TABLE=DAYS|off…]" (IMARCHIVE_RETENTION). TABLE is a storage
// table or its view's name; "all=DAYS" sets every table not named otherwise. Every problem is
// reported at once.
func ParsePolicy(s string) (Policy, error) {
	p := Policy{}
	all := -1
	var errs []error
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !ok || name == "" {
			errs = append(errs, fmt.Errorf("%q: want TABLE=DAYS or TABLE=off", item))
			continue
		}
		days := 0
		if !strings.EqualFold(val, "off") {
			d, err := strconv.Atoi(strings.TrimSuffix(val, "d"))
			if err != nil || d < 1 || d > MaxDays {
				errs = append(errs, fmt.Errorf("%s=%s: days must be a whole number from 1 to %d, or off", name, val, MaxDays))
				continue
			}
			days = d
		}
		if name == "all" {
			all = days
			continue
		}
		if a, ok := aliases[name]; ok {
			name = a
		}
		if _, dup := p[name]; dup {
			errs = append(errs, fmt.Errorf("%s set twice", name))
		}
		p[name] = days
	}
	if all >= 0 {
		for _, t := range Tables {
			if _, set := p[t]; !set {
				p[t] = all
			}
		}
	}
	if err := errors.Join(append(errs, p.Validate())...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicy, err)
	}
	return p, nil
}

// Validate reports tables retention does not know.
func (p Policy) Validate() error {
	var errs []error
	known := map[string]bool{}
	for _, t := range Tables {
		known[t] = true
	}
	names := make([]string, 0, len(p))
	for t := range p {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if !known[t] {
			errs = append(errs, fmt.Errorf("table %q: retention applies to %s", t, strings.Join(Tables, ", ")))
		}
		if p[t] < 0 || p[t] > MaxDays {
			errs = append(errs, fmt.Errorf("table %s: %d days", t, p[t]))
		}
	}
	return errors.Join(errs...)
}

// String writes the policy back in ParsePolicy's form, every table, in pass order.
func (p Policy) String() string {
	parts := make([]string, 0, len(Tables))
	for _, t := range Tables {
		if d := p[t]; d > 0 {
			parts = append(parts, t+"="+strconv.Itoa(d))
		} else {
			parts = append(parts, t+"=off")
		}
	}
	return strings.Join(parts, ",")
}
