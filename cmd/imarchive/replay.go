package main

import (
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/internal/cli"
	"github.com/imarchive/imarchive/pipeline"
)

func replayCommand(stdout, stderr io.Writer) *cli.Command {
	c := cli.New("replay", "rebuild the events topic (and so the tables) from the raw topic with the current normalizers",
		`Reads every raw record up to the raw topic's end at the start of the run, normalizes it again with
this build's normalizers (the same code serve runs) and produces the events to the events topic,
keyed as serve keys them; a record that cannot be normalized goes to the dead-letter topic with the
reason. The running consumers (imarchive consume) then rewrite the tables. Idempotent: event ids are
deterministic, so replayed events fold into the rows already archived (the newest write wins, so a
normalizer fix takes effect) and presence events keep their first verdict; run it again at will.
A fix that changes how an event_id is derived leaves the rows of the old ids in place.
Progress goes to standard output every --progress-every.`)
	var (
		lf    cli.LogFlags
		kf    kafkaFlags
		dry   bool
		every time.Duration
	)
	lf.Register(c)
	kf.register(c)
	c.FS.BoolVar(&dry, "dry-run", false, "normalize and count only; produce nothing")
	c.Env("dry-run", "IMARCHIVE_REPLAY_DRY_RUN")
	c.Duration(&every, "progress-every", "IMARCHIVE_REPLAY_PROGRESS", 5*time.Second, "how often to print progress")
	c.Run = func(args []string) error {
		if err := c.Parse(args); err != nil {
			return err
		}
		log, err := lf.Logger(stderr)
		if err != nil {
			return err
		}
		tc := kf.config()
		if err := tc.Validate(); err != nil {
			return err
		}
		ctx, stop := cli.SignalContext()
		defer stop()
		if !dry {
			// The events topic must exist to be produced to.
			cl, err := kgo.NewClient(tc.ClientOptions(log)...)
			if err != nil {
				return fmt.Errorf("kafka client: %w", err)
			}
			err = tc.Ensure(ctx, cl)
			cl.Close()
			if err != nil {
				return err
			}
		}
		_, err = pipeline.Replay(ctx, tc, pipeline.ReplayConfig{DryRun: dry, Progress: every}, log, stdout)
		return err
	}
	return c
}
