package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/chconn"
	"github.com/imarchive/imarchive/internal/loadgen"
	"github.com/imarchive/imarchive/kafka"
)

// Report is what a chaos run found.
type Report struct {
	Seed        uint64         `json:"seed"`
	Database    string         `json:"database"`
	TopicPrefix string         `json:"topic_prefix"`
	Faults      []Fault        `json:"faults"`
	Load        loadgen.Counts `json:"load"` // sends, including platform retries of accepted and failed ones
	LoadElapsed time.Duration  `json:"load_elapsed_ns"`
	SettledIn   time.Duration  `json:"settled_in_ns"` // after the load, until the archive had everything

	Acknowledged int `json:"acknowledged"` // distinct callbacks answered with success (by event_id)
	Archived     int `json:"archived"`     // of them, in archive_events
	Lost         int `json:"lost"`         // acknowledged, not in archive_events
	RawMissing   int `json:"raw_missing"`  // acknowledged, not in raw_callbacks
	Duplicates   int `json:"duplicates"`   // event_ids (or raw positions, accounts) a view shows more than once
	Unacked      int `json:"unacknowledged_archived"`

	PresenceAccounts int `json:"presence_accounts"`
	PresenceWrong    int `json:"presence_wrong"` // connections whose online-state timestamp is not the greatest time of their copies

	DeadLetterSent       int `json:"dead_letter_sent"`       // unnormalizable callbacks sent
	DeadLetterAcked      int `json:"dead_letter_acked"`      // of them, answered with success
	DeadLetters          int `json:"dead_letters"`           // records on the dead-letter topic
	DeadLetterMissing    int `json:"dead_letter_missing"`    // acknowledged unnormalizable callbacks not on it
	DeadLetterUnexpected int `json:"dead_letter_unexpected"` // records on it that are none of those

	Problems []string `json:"problems,omitempty"`
}

// OK reports whether the run found nothing lost, doubled or misplaced.
func (r *Report) OK() bool {
	return r.Acknowledged > 0 && r.Lost == 0 && r.RawMissing == 0 && r.Duplicates == 0 && r.PresenceWrong == 0 &&
		r.DeadLetterMissing == 0 && r.DeadLetterUnexpected == 0 && len(r.Problems) == 0
}

// Write prints the report.
func (r *Report) Write(w io.Writer) {
	kinds := map[string]int{}
	for _, f := range r.Faults {
		kinds[f.Kind]++
	}
	var ks []string
	for k, n := range kinds {
		ks = append(ks, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(ks)
	fmt.Fprintf(w, "chaos report (seed %d)\n", r.Seed)
	fmt.Fprintf(w, "  faults        %d: %s\n", len(r.Faults), strings.Join(ks, ", "))
	fmt.Fprintf(w, "  sent          %d (%d retries of accepted or failed sends; %d failed and were retried, %d rejected)\n",
		r.Load.Sent, r.Load.Retries, r.Load.Failed, r.Load.Rejected)
	fmt.Fprintf(w, "  acknowledged  %d distinct callbacks\n", r.Acknowledged)
	fmt.Fprintf(w, "  archived      %d of them (settled %.1fs after the load); %d more archived whose answer was lost\n",
		r.Archived, r.SettledIn.Seconds(), r.Unacked)
	fmt.Fprintf(w, "  duplicates    %d\n", r.Duplicates)
	fmt.Fprintf(w, "  lost          %d (raw archive: %d missing)\n", r.Lost, r.RawMissing)
	fmt.Fprintf(w, "  presence      %d accounts, %d connections not in the rule's state\n", r.PresenceAccounts, r.PresenceWrong)
	fmt.Fprintf(w, "  dead letters  %d on the topic: %d unnormalizable sent, %d acknowledged, %d of those missing, %d unexpected\n",
		r.DeadLetters, r.DeadLetterSent, r.DeadLetterAcked, r.DeadLetterMissing, r.DeadLetterUnexpected)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  PROBLEM: %s\n", p)
	}
	if r.OK() {
		fmt.Fprintln(w, "  result        OK: every acknowledged callback archived exactly once")
	} else {
		fmt.Fprintln(w, "  result        FAILED")
	}
}

func (r *run) problem(rep *Report, format string, args ...any) {
	rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
}

// verify waits for the archive to catch up with what was acknowledged, then checks it.
func (r *run) verify(ctx context.Context, rep *Report, acked map[string]loadgen.AcceptedRecord, bad *badSender) error {
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, err := chconn.Open(octx, r.dsn)
	cancel()
	if err != nil {
		return fmt.Errorf("chaos: open ClickHouse: %w", err)
	}
	defer conn.Close()
	rep.Acknowledged = len(acked)

	t0 := time.Now()
	if err := r.settle(ctx, conn, acked); err != nil {
		return err
	}
	rep.SettledIn = time.Since(t0)
	// Let a late repeat land before counting: a re-delivered batch would show now.
	time.Sleep(2 * time.Second)
	for _, check := range []func(context.Context, driver.Conn, *Report, map[string]loadgen.AcceptedRecord) error{
		r.countArchived, r.checkNoRepeats, r.checkPresence,
	} {
		if err := check(ctx, conn, rep, acked); err != nil {
			return err
		}
	}
	return r.verifyDeadLetters(ctx, conn, rep, bad)
}

// settle waits, up to Settle, until every acknowledged event is in archive_events and raw_callbacks.
func (r *run) settle(ctx context.Context, conn driver.Conn, acked map[string]loadgen.AcceptedRecord) error {
	var err error
	deadline := time.Now().Add(r.cfg.Settle)
	var archived, raw map[string]int
	for round := 1; ; round++ {
		if archived, err = idCounts(ctx, conn, "SELECT event_id FROM archive_events"); err == nil {
			raw, err = idCounts(ctx, conn, "SELECT DISTINCT event_id FROM raw_callbacks WHERE event_id != ''")
		}
		missing, rawMissing := 0, 0
		if err == nil {
			for id := range acked {
				if archived[id] == 0 {
					missing++
				}
				if raw[id] == 0 {
					rawMissing++
				}
			}
			if missing == 0 && rawMissing == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("chaos: read the archive: %w", err)
			}
			break
		}
		if round%5 == 0 {
			fmt.Fprintf(r.cfg.Out, "chaos: waiting for the archive: %d acknowledged not yet in archive_events, %d not in raw_callbacks (%v)\n", missing, rawMissing, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil
}

// countArchived counts the acknowledged events archived, lost and without their raw record, and the
// archived ones repeated or never acknowledged.
func (r *run) countArchived(ctx context.Context, conn driver.Conn, rep *Report, acked map[string]loadgen.AcceptedRecord) error {
	archived, err := idCounts(ctx, conn, "SELECT event_id FROM archive_events")
	if err != nil {
		return fmt.Errorf("chaos: read archive_events: %w", err)
	}
	raw, err := idCounts(ctx, conn, "SELECT DISTINCT event_id FROM raw_callbacks WHERE event_id != ''")
	if err != nil {
		return fmt.Errorf("chaos: read raw_callbacks: %w", err)
	}
	for id := range acked {
		switch {
		case archived[id] == 0:
			rep.Lost++
			if rep.Lost <= 5 {
				rec := acked[id]
				r.problem(rep, "lost: %s %s (event_id %s) was acknowledged and is not in archive_events", rec.Kind, rec.ID, id)
			}
		default:
			rep.Archived++
		}
		if raw[id] == 0 {
			rep.RawMissing++
		}
	}
	for id, n := range archived {
		if n > 1 {
			rep.Duplicates++
		}
		if _, ok := acked[id]; !ok {
			rep.Unacked++
		}
	}
	return nil
}

// checkNoRepeats: no table holds a row twice.
func (r *run) checkNoRepeats(ctx context.Context, conn driver.Conn, rep *Report, _ map[string]loadgen.AcceptedRecord) error {
	for _, q := range []string{
		"SELECT toInt64(count()) - toInt64(uniqExact(event_id)) FROM messages",
		"SELECT toInt64(count()) - toInt64(uniqExact(event_id)) FROM presence_events",
		"SELECT toInt64(count()) - toInt64(uniqExact(source, app, account)) FROM presence_state",
		"SELECT toInt64(count()) - toInt64(uniqExact(source, app, account, device_id, client_type)) FROM presence_devices",
		"SELECT toInt64(count()) - toInt64(uniqExact(raw_partition, raw_offset)) FROM raw_callbacks",
	} {
		var n int64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("chaos: %s: %w", q, err)
		}
		if n != 0 {
			rep.Duplicates += int(n)
			r.problem(rep, "%s = %d, want 0", q, n)
		}
	}

	return nil
}

// checkPresence checks the online state: every connection's online-state timestamp is the greatest
// time among its copies (a copy older than the stamp never moves it; any other copy sets it), whatever
// the arrival order.
func (r *run) checkPresence(ctx context.Context, conn driver.Conn, rep *Report, acked map[string]loadgen.AcceptedRecord) error {
	var accounts, wrong uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM presence_state").Scan(&accounts); err != nil {
		return fmt.Errorf("chaos: presence_state: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT count() FROM presence_connections AS c
		FULL OUTER JOIN (SELECT source, app, account, connection, max(occurred_at) AS t
		                 FROM presence_events GROUP BY source, app, account, connection) AS p
		ON c.source = p.source AND c.app = p.app AND c.account = p.account AND c.connection = p.connection
		WHERE c.state_time != p.t`).Scan(&wrong); err != nil {
		return fmt.Errorf("chaos: presence rule: %w", err)
	}
	rep.PresenceAccounts, rep.PresenceWrong = int(accounts), int(wrong)
	var presenceAcked int
	for _, rec := range acked {
		if rec.Kind == loadgen.NeteasePresence || rec.Kind == loadgen.ILinkStatus {
			presenceAcked++
		}
	}
	if presenceAcked > 0 && accounts == 0 {
		r.problem(rep, "%d presence events acknowledged, no account in presence_state", presenceAcked)
	}
	return nil
}

func idCounts(ctx context.Context, conn driver.Conn, q string) (map[string]int, error) {
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rows, err := conn.Query(qctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id]++
	}
	return out, rows.Err()
}

// verifyDeadLetters reads the whole dead-letter topic: every record must be one of the
// unnormalizable callbacks sent, and every one of those acknowledged must be there (and in the raw
// archive).
func (r *run) verifyDeadLetters(ctx context.Context, conn driver.Conn, rep *Report, bad *badSender) error {
	bad.mu.Lock()
	sent := make(map[string]bool, len(bad.keys))
	for k, ackd := range bad.keys {
		sent[k] = ackd
	}
	bad.mu.Unlock()
	rep.DeadLetterSent = len(sent)
	for _, ackd := range sent {
		if ackd {
			rep.DeadLetterAcked++
		}
	}
	tc := kafka.DefaultConfig()
	tc.Brokers, tc.Prefix = r.cfg.Brokers, r.topic
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cl, err := kgo.NewClient(append(tc.ClientOptions(log), kgo.ConsumeTopics(tc.DeadLetter()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, tc.DeadLetter())
	if err != nil {
		return fmt.Errorf("chaos: dead-letter end offsets: %w", err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	found := map[string]bool{}
	var n int64
	for n < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("chaos: read the dead-letter topic: %d of %d records", n, total)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			n++
			key := string(rec.Key)
			if _, ok := sent[key]; ok {
				found[key] = true
				return
			}
			rep.DeadLetterUnexpected++
			reason := ""
			for _, h := range rec.Headers {
				if strings.HasSuffix(h.Key, "reason") {
					reason = string(h.Value)
				}
			}
			if rep.DeadLetterUnexpected <= 5 {
				r.problem(rep, "unexpected dead letter (key %q, offset %d): %s", key, rec.Offset, reason)
			}
		})
	}
	rep.DeadLetters = int(total)
	rawKeys, err := idCounts(ctx, conn, "SELECT DISTINCT raw_key FROM raw_callbacks WHERE event_id = ''")
	if err != nil {
		return fmt.Errorf("chaos: raw keys: %w", err)
	}
	for key, ackd := range sent {
		if !ackd {
			continue
		}
		if !found[key] {
			rep.DeadLetterMissing++
			r.problem(rep, "acknowledged unnormalizable callback %s is not on the dead-letter topic", key)
		}
		if rawKeys[key] == 0 {
			rep.RawMissing++
			r.problem(rep, "acknowledged unnormalizable callback %s is not in the raw archive", key)
		}
	}
	return nil
}
