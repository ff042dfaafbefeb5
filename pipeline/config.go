package pipeline

import (
	"errors"
	"fmt"
	"time"
)

// Config is the consumer's configuration.
type Config struct {
	Group     string        // consumer group (IMARCHIVE_CONSUMER_GROUP), default "imarchive-clickhouse"
	BatchRows int           // most rows in one insert, default 5000
	BatchWait time.Duration // longest a record waits for its batch to fill, default 1 s
	RetryMin  time.Duration // first backoff after a failed insert, default 200 ms
	RetryMax  time.Duration // longest backoff, default 30 s
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Group: "imarchive-clickhouse", BatchRows: 5000, BatchWait: time.Second, RetryMin: 200 * time.Millisecond, RetryMax: 30 * time.Second}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Group == "" {
		errs = append(errs, errors.New("consumer group: empty"))
	}
	if c.BatchRows < 1 {
		errs = append(errs, fmt.Errorf("batch rows %d: want at least 1", c.BatchRows))
	}
	if c.BatchWait <= 0 {
		errs = append(errs, fmt.Errorf("batch wait %s: must be positive", c.BatchWait))
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("retry backoff %s..%s: want 0 < min <= max", c.RetryMin, c.RetryMax))
	}
	return errors.Join(errs...)
}
