package pipeline

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// instanceIDPattern is what Kafka accepts as a group.instance.id (as a topic name: Kafka's Topic.validate).
var instanceIDPattern = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// Config is the consumers' configuration. The binary fills it from flags and IMARCHIVE_* variables.
type Config struct {
	Group    string // consumer group of the events topic (IMARCHIVE_CONSUMER_GROUP), default "imarchive-clickhouse"
	RawGroup string // consumer group of the raw topic (IMARCHIVE_RAW_GROUP); empty: Group + "-raw"
	// BatchRows and BatchBytes bound a batch (records; record bytes, and per fetch), default 100,000
	// and 16 MiB: a batch that reaches either is written as soon as the insert interval allows, and
	// nothing more is polled meanwhile. Under the interval the whole group writes at most BatchBytes
	// per InsertInterval: raise BatchBytes (memory: about twice it per consumer) for more.
	BatchRows  int
	BatchBytes int
	BatchWait  time.Duration // longest a record waits for its batch to fill (the insert interval aside), default 1 s
	// InsertInterval is the least time between two inserts into one table by the whole group, default
	// 1 s (ClickHouse's guidance: about one insert per second per table). Each consumer writes at most
	// one batch per InsertInterval × the group's members that hold partitions (every table is written
	// by one group, at most once per batch). A batch is written as soon as that allows once it is full
	// (BatchRows, BatchBytes), caught up (a poll found no more records waiting) or BatchWait old.
	// 0 turns the interval off.
	InsertInterval time.Duration
	// NoCaughtUpFlush writes a batch only once it is full or BatchWait old, never because the
	// consumer caught up. With InsertInterval 0 and BatchRows 5000 it is the flush policy before the
	// interval and the caught-up rule existed, which imarchive-dev bench measures beside today's; not a
	// flag of consume.
	NoCaughtUpFlush bool
	// InstanceID makes the consumer a static member of its groups (Kafka's group.instance.id, KIP-345):
	// restarted within SessionTimeout, it gets its partitions back without a rebalance. Each consume
	// process needs its own; empty: dynamic membership.
	InstanceID string
	// StallAfter: a partition with lag whose committed offset has not moved for this long is reported
	// stalled (metrics, consume's /readyz), default 2 min.
	StallAfter time.Duration
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
		BatchRows:      100_000,
		BatchBytes:     16 << 20,
		BatchWait:      time.Second,
		InsertInterval: time.Second,
		StallAfter:     2 * time.Minute,
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
	if c.InsertInterval < 0 {
		errs = append(errs, fmt.Errorf("insert interval %s: must not be negative (0: off)", c.InsertInterval))
	}
	if c.StallAfter < time.Second {
		errs = append(errs, fmt.Errorf("stall after %s: want at least 1s", c.StallAfter))
	}
	if c.InstanceID != "" && !instanceIDPattern.MatchString(c.InstanceID) {
		errs = append(errs, fmt.Errorf("group instance id %q: want 1 to 249 of a-z A-Z 0-9 . _ - (Kafka's rule)", c.InstanceID))
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
