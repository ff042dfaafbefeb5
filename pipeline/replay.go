package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
	"github.com/imarchive/imarchive/kafka"
	"github.com/imarchive/imarchive/normalize"
)

// ReplayConfig configures Replay.
type ReplayConfig struct {
	// Normalizers by source (DefaultNormalizers: package normalize's, the same code serve runs).
	Normalizers map[string]normalize.Func
	// DryRun normalizes and counts but produces nothing.
	DryRun bool
	// Progress is how often a progress line is written (default 5 s).
	Progress time.Duration
}

// DefaultNormalizers are package normalize's normalizers by source.
func DefaultNormalizers() map[string]normalize.Func {
	return map[string]normalize.Func{
		event.SourceNetease: normalize.Netease,
		event.SourceILink:   normalize.ILink,
		event.SourceMaxim:   normalize.Maxim,
	}
}

// ReplayStats says what a replay did.
type ReplayStats struct {
	Total       int64 // raw records to replay (the raw topic's end offsets when the replay started)
	Records     int64 // raw records read
	Events      int64 // events produced (or, dry, that would be)
	DeadLetters int64 // records that could not be normalized, dead-lettered with the reason
}

// ErrNoNormalizer is the reason a raw record of an unknown source is dead-lettered.
var ErrNoNormalizer = errors.New("no normalizer for this source")

// Replay rebuilds the events topic from the raw topic: every raw record up to the end offsets of the
// moment it starts is normalized again with the current normalizers and produced to the events topic
// (acks=all), keyed as ingest keys it; a record that cannot be normalized goes to the dead-letter topic
// with the reason (stage pipeline.replay). The consumers then rebuild the tables.
//
// Idempotent: an event's id is deterministic, so a replayed event that is already archived folds into
// its rows (the newest write wins: a normalizer fix takes effect), and a presence event keeps its first
// verdict. A fix that changes how an event_id is derived leaves the rows of the old id in place.
// Progress lines go to out.
func Replay(ctx context.Context, tc kafka.Config, cfg ReplayConfig, log *slog.Logger, out io.Writer) (ReplayStats, error) {
	var st ReplayStats
	if cfg.Progress <= 0 {
		cfg.Progress = 5 * time.Second
	}
	if cfg.Normalizers == nil {
		cfg.Normalizers = DefaultNormalizers()
	}
	admin, err := kgo.NewClient(tc.ClientOptions(log)...)
	if err != nil {
		return st, fmt.Errorf("kafka client: %w", err)
	}
	adm := kadm.NewClient(admin)
	starts, err := adm.ListStartOffsets(ctx, tc.Raw())
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		ends, err = adm.ListEndOffsets(ctx, tc.Raw())
		if err == nil {
			err = ends.Error()
		}
	}
	admin.Close()
	if err != nil {
		return st, fmt.Errorf("list offsets of %s: %w", tc.Raw(), err)
	}
	from := map[int32]kgo.Offset{}
	end := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		s, _ := starts.Lookup(o.Topic, o.Partition)
		if o.Offset > s.Offset {
			from[o.Partition] = kgo.NewOffset().At(s.Offset)
			end[o.Partition] = o.Offset
			st.Total += o.Offset - s.Offset
		}
	})
	fmt.Fprintf(out, "replay: %d raw records in %d partitions of %s → %s%s\n", st.Total, len(end), tc.Raw(), tc.Events(), dryNote(cfg.DryRun))
	if st.Total == 0 {
		return st, nil
	}
	cl, err := kgo.NewClient(append(append(tc.ClientOptions(log),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{tc.Raw(): from}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ProducerLinger(5*time.Millisecond),
	), tc.ProducerOptions()...)...)
	if err != nil {
		return st, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()

	began, last := time.Now(), time.Now()
	idle := 0
	for len(end) > 0 {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if fs.NumRecords() == 0 {
			// The offsets left may be transaction markers or compacted away: after 30 s with
			// nothing to read, what is left is not there to replay.
			if idle++; idle >= 3 {
				log.Warn("replay: nothing more to read before the end offsets; stopping", "partitions_left", len(end))
				break
			}
			continue
		}
		idle = 0
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				ferr = errors.Join(ferr, fmt.Errorf("fetch %s/%d: %w", t, p, err))
			}
		})
		if ferr != nil {
			return st, ferr
		}
		var recs []*kgo.Record
		var events, dead int64
		fs.EachRecord(func(r *kgo.Record) {
			stop, ok := end[r.Partition]
			if !ok || r.Offset >= stop {
				return
			}
			st.Records++
			if rec, err := replayRecord(tc, cfg.Normalizers, r); err != nil {
				dead++
				recs = append(recs, deadLetter(tc.DeadLetter(), r, StageReplay, err))
			} else {
				events++
				recs = append(recs, rec)
			}
			if r.Offset >= stop-1 {
				delete(end, r.Partition)
			}
		})
		if !cfg.DryRun && len(recs) > 0 {
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				return st, fmt.Errorf("produce replayed events: %w", err)
			}
		}
		st.Events += events
		st.DeadLetters += dead
		if time.Since(last) >= cfg.Progress {
			last = time.Now()
			progress(out, st, began)
		}
	}
	progress(out, st, began)
	fmt.Fprintf(out, "replay: done: %d raw records, %d events, %d dead letters%s\n", st.Records, st.Events, st.DeadLetters, dryNote(cfg.DryRun))
	return st, nil
}

// replayRecord normalizes one raw record into an events-topic record.
func replayRecord(tc kafka.Config, norms map[string]normalize.Func, r *kgo.Record) (*kgo.Record, error) {
	raw := DecodeRaw(r)
	norm, ok := norms[raw.Source]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoNormalizer, raw.Source)
	}
	ev, err := norm(raw.App, raw.Body, time.UnixMilli(raw.ReceivedAtMs))
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	ev.RawKey = string(r.Key)
	rec, err := tc.EventRecord(&ev)
	if err == nil && !tc.Fits(rec) {
		err = fmt.Errorf("%w: %d bytes, the limit is %d", kafka.ErrRecordTooLarge, kafka.EncodedSize(rec), tc.MaxMessageBytes)
	}
	return rec, err
}

func progress(out io.Writer, st ReplayStats, began time.Time) {
	rate := float64(st.Records) / max(time.Since(began).Seconds(), 0.001)
	fmt.Fprintf(out, "replay: %d/%d raw records (%.1f%%), %d events, %d dead letters, %.0f records/s\n",
		st.Records, st.Total, 100*float64(st.Records)/float64(max(st.Total, 1)), st.Events, st.DeadLetters, rate)
}

func dryNote(dry bool) string {
	if dry {
		return " (dry run: nothing produced)"
	}
	return ""
}
