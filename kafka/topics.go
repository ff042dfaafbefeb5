// Package kafka is how every component reaches Kafka: the project's topics (names, creation, record
// limit), the raw and event records' contract (raw.go, records.go), record signing, TLS and SASL, and
// the franz-go client options every component shares.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
	// MaxMessageBytes is the record limit (IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES, default
	// DefaultMaxMessageBytes): the topics' max.message.bytes when they are created, checked on
	// topics that exist, and the producers' batch limit, so that the three agree.
	MaxMessageBytes int32
	// Auth signs and verifies the records of serve and replay (IMARCHIVE_RECORD_KEYS).
	Auth RecordAuth
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Prefix: "imarchive.", Partitions: 6, ReplicationFactor: -1, MaxMessageBytes: DefaultMaxMessageBytes}
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
	if c.MaxMessageBytes < 64<<10 || c.MaxMessageBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("kafka record limit %d bytes: want 64 KiB to 1 GiB (IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES)", c.MaxMessageBytes))
	}
	errs = append(errs, c.Security.validate(), c.Auth.validate())
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

// Ensure creates every missing topic, with max.message.bytes = MaxMessageBytes. Topics that exist
// are left as they are; when one of them accepts smaller records than MaxMessageBytes, Ensure
// returns ErrTopicLimit (wrapped) saying how to raise it.
func (c Config) Ensure(ctx context.Context, cl *kgo.Client) error {
	adm := kadm.NewClient(cl)
	limit := strconv.Itoa(int(c.MaxMessageBytes))
	resp, err := adm.CreateTopics(ctx, c.Partitions, c.ReplicationFactor, map[string]*string{"max.message.bytes": &limit}, c.All()...)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	var errs []error
	var existing []string
	for _, r := range resp.Sorted() {
		switch {
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			existing = append(existing, r.Topic)
		case r.Err != nil:
			errs = append(errs, fmt.Errorf("create topic %s: %w", r.Topic, r.Err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return c.checkLimits(ctx, adm, existing)
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
			log.Info("kafka topics ready", "topics", c.All(), "max_message_bytes", c.MaxMessageBytes)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrTopicLimit) {
			log.Error("kafka topics exist but accept smaller records than imarchive may write; such callbacks would be answered 503 until this is fixed", "err", err)
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
