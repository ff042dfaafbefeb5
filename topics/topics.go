// Package topics names the project's Kafka topics, creates them when missing, and builds the franz-go
// client options every component shares.
package topics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"
)

// Config says where Kafka is and what the topics are called.
type Config struct {
	Brokers []string // IMARCHIVE_KAFKA_BROKERS, comma-separated
	Prefix  string   // IMARCHIVE_TOPIC_PREFIX, default "imarchive."
	// Partitions and ReplicationFactor are used only when a topic is created.
	Partitions        int32 // default 6
	ReplicationFactor int16 // default -1: the broker's default.replication.factor
	// Security is TLS and SASL to the brokers (IMARCHIVE_KAFKA_TLS*, IMARCHIVE_KAFKA_SASL_*).
	Security Security
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Prefix: "imarchive.", Partitions: 6, ReplicationFactor: -1}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka brokers: none given (IMARCHIVE_KAFKA_BROKERS)"))
	}
	for _, b := range c.Brokers {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, errors.New("kafka brokers: empty entry"))
		}
	}
	if c.ReplicationFactor == 0 || c.ReplicationFactor < -1 {
		errs = append(errs, fmt.Errorf("kafka replication factor %d: want -1 (the broker's default) or at least 1", c.ReplicationFactor))
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("kafka partitions: %d, want at least 1", c.Partitions))
	}
	errs = append(errs, c.Security.validate())
	return errors.Join(errs...)
}

// Raw is the topic of raw callbacks: the bytes exactly as received, the record of truth.
func (c Config) Raw() string { return c.Prefix + "raw" }

// Events is the topic of normalized canonical events.
func (c Config) Events() string { return c.Prefix + "events" }

// DeadLetter is the topic of what could not be normalized or written, with the reason.
func (c Config) DeadLetter() string { return c.Prefix + "deadletter" }

// All lists every topic the project uses.
func (c Config) All() []string { return []string{c.Raw(), c.Events(), c.DeadLetter()} }

// ClientOptions are the options every client of the project starts from, TLS and SASL included.
func (c Config) ClientOptions(log *slog.Logger) []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.WithLogger(kslog.New(log.With("component", "kafka"))),
		kgo.DialTimeout(5 * time.Second),
		kgo.RetryTimeout(30 * time.Second),
	}, c.Security.options()...)
}

// Ensure creates every missing topic. Topics that exist are left as they are.
func (c Config) Ensure(ctx context.Context, cl *kgo.Client) error {
	adm := kadm.NewClient(cl)
	resp, err := adm.CreateTopics(ctx, c.Partitions, c.ReplicationFactor, nil, c.All()...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var errs []error
	for _, r := range resp.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("create topic %s: %w", r.Topic, r.Err))
		}
	}
	return errors.Join(errs...)
}

// Ping asks the cluster for its metadata; it is how readiness is judged.
func Ping(ctx context.Context, cl *kgo.Client) error {
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka ping: %w", err)
	}
	return nil
}

// EnsureRetry runs Ensure until it succeeds or ctx ends, backing off up to 30 s, so that a service
// starts (and reports not ready) while Kafka is still down.
func (c Config) EnsureRetry(ctx context.Context, cl *kgo.Client, log *slog.Logger) {
	for wait := time.Second; ; wait = min(wait*2, 30*time.Second) {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := c.Ensure(cctx, cl)
		cancel()
		if err == nil {
			log.Info("kafka topics ready", "topics", c.All())
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("cannot create kafka topics yet; retrying", "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
