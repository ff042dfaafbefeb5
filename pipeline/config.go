package pipeline

import (
	"errors"
	"fmt"
	"time"
)

// Config is the consumers' configuration. The binary fills it from flags and IMARCHIVE_* variables.
type Config struct {
	Group      string        // consumer group of the events topic (IMARCHIVE_CONSUMER_GROUP), default "imarchive-clickhouse"
	RawGroup   string        // consumer group of the raw topic (IMARCHIVE_RAW_GROUP); empty: Group + "-raw"
	BatchRows  int           // most records in one batch, default 5000
	BatchBytes int           // most record bytes in one batch (and per fetch), default 16 MiB
	BatchWait  time.Duration // longest a record waits for its batch to fill, default 1 s
	RetryMin   time.Duration // first backoff after a failed insert, default 200 ms
	RetryMax   time.Duration // longest backoff, default 30 s
	// SessionTimeout is how long the group waits for a silent member (a consumer killed or cut off)
	// before its partitions go to the others, default 45 s (Kafka's).
	SessionTimeout time.Duration
	Presence       PresenceConfig
}

// PresenceConfig configures the online-state processor.
type PresenceConfig struct {
	// Heartbeat is the platform's renewal period (NetEase eventType 47 type 8: every 30 minutes).
	Heartbeat time.Duration
	// Grace is added to Heartbeat before an online state without renewal is reported expired
	// (IMARCHIVE_PRESENCE_GRACE, default 5 min).
	Grace time.Duration
	// CacheAccounts bounds the accounts whose state is kept in memory (default 1,000,000); past it the
	// cache is dropped and states are reloaded from ClickHouse as accounts come back.
	CacheAccounts int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Group:          "imarchive-clickhouse",
		BatchRows:      5000,
		BatchBytes:     16 << 20,
		BatchWait:      time.Second,
		RetryMin:       200 * time.Millisecond,
		RetryMax:       30 * time.Second,
		SessionTimeout: 45 * time.Second,
		Presence:       PresenceConfig{Heartbeat: 30 * time.Minute, Grace: 5 * time.Minute, CacheAccounts: 1_000_000},
	}
}

// RawGroupName is the raw archive's consumer group: RawGroup, or Group + "-raw".
func (c Config) RawGroupName() string {
	if c.RawGroup != "" {
		return c.RawGroup
	}
	return c.Group + "-raw"
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Group == "" {
		errs = append(errs, errors.New("consumer group: empty"))
	}
	if c.RawGroupName() == c.Group {
		errs = append(errs, fmt.Errorf("raw archive group %q: must differ from the events group", c.RawGroup))
	}
	if c.BatchRows < 1 {
		errs = append(errs, fmt.Errorf("batch rows %d: want at least 1", c.BatchRows))
	}
	if c.BatchBytes < 1<<10 {
		errs = append(errs, fmt.Errorf("batch bytes %d: want at least 1024", c.BatchBytes))
	}
	if c.BatchWait <= 0 {
		errs = append(errs, fmt.Errorf("batch wait %s: must be positive", c.BatchWait))
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("retry backoff %s..%s: want 0 < min <= max", c.RetryMin, c.RetryMax))
	}
	if c.SessionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("session timeout %s: want at least 1s", c.SessionTimeout))
	}
	if c.Presence.Heartbeat <= 0 {
		errs = append(errs, fmt.Errorf("presence heartbeat period %s: must be positive", c.Presence.Heartbeat))
	}
	if c.Presence.Grace < 0 {
		errs = append(errs, fmt.Errorf("presence grace %s: must not be negative", c.Presence.Grace))
	}
	if c.Presence.CacheAccounts < 1 {
		errs = append(errs, fmt.Errorf("presence cache accounts %d: want at least 1", c.Presence.CacheAccounts))
	}
	return errors.Join(errs...)
}
