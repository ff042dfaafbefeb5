package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/imarchive/imarchive/ingest"
	"github.com/imarchive/imarchive/ingest/spool"
	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/kafka"
)

func spoolCommand(stdout io.Writer) *cli.Command {
	c := cli.New("spool", "show serve's local spool: what waits to be forwarded to Kafka, and what was set aside (imarchive spool status|inspect)",
		`  imarchive spool status  [--spool-dir DIR] [--format text|json]
  imarchive spool inspect [--spool-dir DIR] [--limit N] [--bodies]
serve writes a callback to its spool when Kafka does not acknowledge it within --spool-after (and
every callback while the spool is not empty), answers the platform once it is fsynced, and forwards
the spool to Kafka in order. Both commands only read: they can run beside serve. status: records and
bytes waiting, the oldest, the files on disk, and the damaged stretches or refused records set aside
in DIR/damaged (recovery copies them there; nothing is deleted). inspect: one JSON line per record
waiting — sequence number, when spooled, receipt id, platform, app, event_id, its Kafka records
(and, with --bodies, the raw body). Exit status 1 when damage is found.`)
	var (
		dir    string
		format string
		limit  int
		bodies bool
		prefix string
	)
	c.Str(&dir, "spool-dir", "IMARCHIVE_SPOOL_DIR", defaultSpoolDir(), "the spool directory (serve's --spool-dir)")
	c.Str(&prefix, "topic-prefix", "IMARCHIVE_TOPIC_PREFIX", "imarchive.", "topic prefix, to name the records' topics")
	c.FS.StringVar(&format, "format", "text", "status output: text or json")
	c.FS.IntVar(&limit, "limit", 0, "inspect: at most this many records (0: all)")
	c.FS.BoolVar(&bodies, "bodies", false, "inspect: include each callback's raw body")
	c.Group(
		cli.Subcommand{Name: "status", Summary: "records and bytes waiting, the oldest record's age, what recovery set aside"},
		cli.Subcommand{Name: "inspect", Summary: "one JSON line per record waiting (--bodies: with the raw body)"},
	)
	c.Run = func(args []string) error {
		sub, err := action(c, args, "status", "inspect")
		if err != nil {
			return err
		}
		if format != "text" && format != "json" {
			return fmt.Errorf("format %q: want text or json", format)
		}
		tc := kafka.DefaultConfig()
		tc.Prefix = prefix
		var rep spool.Report
		if sub == "inspect" {
			rep, err = inspectSpool(stdout, dir, tc, limit, bodies)
		} else {
			rep, err = spool.Inspect(dir, nil)
			if err == nil {
				err = printSpoolStatus(stdout, rep, format)
			}
		}
		if err != nil {
			return err
		}
		if len(rep.Damaged) > 0 {
			return fmt.Errorf("%d damaged stretches in the spool's segments (serve sets them aside in %s/%s when it starts)", len(rep.Damaged), dir, spool.DamagedDir)
		}
		return nil
	}
	return c
}

func printSpoolStatus(w io.Writer, rep spool.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(w, "spool %s\n", rep.Dir)
	fmt.Fprintf(w, "  waiting to be forwarded: %d records, %d bytes\n", rep.Records, rep.Bytes)
	if rep.Records > 0 {
		fmt.Fprintf(w, "  oldest: %s (%s ago); newest: %s\n", rep.Oldest.UTC().Format(time.RFC3339Nano),
			time.Since(rep.Oldest).Round(time.Second), rep.Newest.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(w, "  on disk: %d segment files, %d bytes; forwarded up to sequence number %d\n", rep.Segments, rep.DiskBytes, rep.Forwarded)
	for _, d := range rep.Damaged {
		fmt.Fprintf(w, "  DAMAGED: %s at offset %d, %d bytes (torn tail: %v)\n", d.Segment, d.Offset, d.Length, d.Tail)
	}
	if len(rep.SetAside) > 0 {
		fmt.Fprintf(w, "  set aside in %s/%s (kept, never forwarded):\n", rep.Dir, spool.DamagedDir)
		for _, f := range rep.SetAside {
			fmt.Fprintf(w, "    %s\n", f)
		}
	}
	return nil
}

// spoolLine is one record of imarchive spool inspect.
type spoolLine struct {
	Seq       uint64            `json:"seq"`
	SpooledAt time.Time         `json:"spooled_at"`
	Receipt   string            `json:"receipt_id,omitempty"`
	Platform  string            `json:"platform,omitempty"`
	App       string            `json:"app,omitempty"`
	Received  time.Time         `json:"received_at,omitzero"`
	EventID   string            `json:"event_id,omitempty"`
	Records   []spoolLineRecord `json:"records,omitempty"`
	Body      *string           `json:"body,omitempty"`
	Error     string            `json:"error,omitempty"`
}

type spoolLineRecord struct {
	Topic string `json:"topic"`
	Key   string `json:"key"`
	Bytes int    `json:"bytes"`
}

var errInspectLimit = errors.New("limit reached")

func inspectSpool(w io.Writer, dir string, tc kafka.Config, limit int, bodies bool) (spool.Report, error) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	rep, err := spool.Inspect(dir, func(rec spool.Record) error {
		if limit > 0 && n >= limit {
			return errInspectLimit
		}
		n++
		line := spoolLine{Seq: rec.Seq, SpooledAt: rec.At.UTC()}
		e, err := ingest.DecodeSpoolEntry(tc, rec.Payload)
		if err != nil {
			line.Error = err.Error()
			return enc.Encode(line)
		}
		line.Receipt, line.Platform, line.App, line.Received = e.Receipt, e.Platform, e.App, e.Received.UTC()
		for _, r := range e.Records {
			line.Records = append(line.Records, spoolLineRecord{Topic: r.Topic, Key: string(r.Key), Bytes: len(r.Value)})
			if r.Topic != tc.Raw() {
				continue
			}
			for _, h := range r.Headers {
				if h.Key == kafka.HeaderEventID {
					line.EventID = string(h.Value)
				}
			}
			if bodies {
				b := string(r.Value)
				line.Body = &b
			}
		}
		return enc.Encode(line)
	})
	if errors.Is(err, errInspectLimit) {
		err = nil
	}
	return rep, err
}
