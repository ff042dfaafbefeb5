package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/imarchive/imarchive/event"
)

// DefaultMaxMessageBytes is the default record limit (IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES): the topics'
// max.message.bytes when imarchive creates them and the producers' batch limit. 4 MiB holds the raw
// record of a body at the default 1 MiB limit with its headers, and its event even when the JSON
// re-encoding grows it (an iLink body is carried Base64 and decoded, some three times its size at
// worst); an event that would still be larger is dead-lettered, never retried (ingest).
const DefaultMaxMessageBytes = 4 << 20

// recordOverhead bounds what a record batch holding one record adds to its key, value and headers:
// the batch header (61 bytes) and the record's varints, timestamp delta and attributes, with room.
const recordOverhead = 128

// EncodedSize is an upper bound of the bytes rec takes as a batch of its own, as franz-go and the
// broker count them against the limit.
func EncodedSize(rec *kgo.Record) int {
	n := recordOverhead + len(rec.Key) + len(rec.Value)
	for _, h := range rec.Headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}

// Fits reports whether rec can be produced under the record limit. A record that does not fit is
// refused by the producer (kerr.MessageTooLarge) on every try.
func (c Config) Fits(rec *kgo.Record) bool { return EncodedSize(rec) <= int(c.MaxMessageBytes) }

// ProducerOptions are the options of a client that produces the project's records: acks from all
// in-sync replicas (with franz-go's default idempotent producer) and batches no larger than the
// topics accept.
func (c Config) ProducerOptions() []kgo.Opt {
	return []kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(c.MaxMessageBytes),
	}
}

// EventRecord is the events-topic record of e: event.Marshal's JSON, keyed for ordering (Event.Key),
// signed when record keys are configured.
func (c Config) EventRecord(e *event.Event) (*kgo.Record, error) {
	v, err := event.Marshal(e)
	if err != nil {
		return nil, err
	}
	rec := &kgo.Record{Topic: c.Events(), Key: e.AppendKey(make([]byte, 0, 64)), Value: v}
	c.Auth.Sign(rec)
	return rec, nil
}

// ErrTopicLimit: an existing topic accepts smaller records than the producers may write.
var ErrTopicLimit = errors.New("topic's max.message.bytes is below the record limit")

// checkLimits reports every topic of existing (created before; those just created have the limit
// from Ensure) whose max.message.bytes, its own or the broker's default, is below MaxMessageBytes:
// records the producers may write would be refused there.
func (c Config) checkLimits(ctx context.Context, adm *kadm.Client, existing []string) error {
	if len(existing) == 0 {
		return nil
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, existing...)
	if err != nil {
		return fmt.Errorf("describe topic configs: %w", err)
	}
	var errs []error
	for _, rc := range rcs {
		if rc.Err != nil {
			errs = append(errs, fmt.Errorf("describe %s: %w", rc.Name, rc.Err))
			continue
		}
		for _, cfg := range rc.Configs {
			if cfg.Key != "max.message.bytes" || cfg.Value == nil {
				continue
			}
			n, err := strconv.ParseInt(*cfg.Value, 10, 64)
			if err == nil && n < int64(c.MaxMessageBytes) {
				errs = append(errs, fmt.Errorf("%w: %s allows %d bytes, imarchive may write %d: raise it (kafka-configs.sh --alter --entity-type topics --entity-name %s --add-config max.message.bytes=%d) or lower IMARCHIVE_TOPIC_MAX_MESSAGE_BYTES with IMARCHIVE_MAX_BODY_BYTES",
					ErrTopicLimit, rc.Name, n, c.MaxMessageBytes, rc.Name, c.MaxMessageBytes))
			}
		}
	}
	return errors.Join(errs...)
}
