package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/imarchive/imarchive/event"
)

// Row is one event with the place it was read from.
type Row struct {
	Event     event.Event
	Partition int32
	Offset    int64
}

// ErrNoTable is returned (wrapped) for an event whose kind has no table: it is dead-lettered.
var ErrNoTable = errors.New("no table for this event kind")

// ClickHouseWriter writes batches of events into their tables.
type ClickHouseWriter struct {
	conn driver.Conn
}

// NewClickHouseWriter returns a writer over conn.
func NewClickHouseWriter(conn driver.Conn) *ClickHouseWriter { return &ClickHouseWriter{conn: conn} }

// Accepts reports whether the writer has a table for the event; events it does not accept are
// dead-lettered by the consumer with ErrNoTable.
func (w *ClickHouseWriter) Accepts(e *event.Event) error {
	if e.Kind == event.KindMessage {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrNoTable, e.Kind)
}

const insertMessages = `INSERT INTO messages (event_id, source, app, platform_type, msg_time, occurred_at, received_at,
 sender, sender_nick, sender_client_type, sender_device_id, sender_ip, server_id, channel_id, group_id, to_account,
 msg_id, client_msg_id, msg_type, body, attrs, kafka_partition, kafka_offset)`

// WriteBatch inserts the rows in one INSERT per table, with the given insert deduplication token, and
// returns only when ClickHouse acknowledged them.
func (w *ClickHouseWriter) WriteBatch(ctx context.Context, rows []Row, token string) error {
	if len(rows) == 0 {
		return nil
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplication_token": token,
	}))
	b, err := w.conn.PrepareBatch(ctx, insertMessages)
	if err != nil {
		return fmt.Errorf("prepare insert into messages: %w", err)
	}
	defer b.Abort()
	for _, r := range rows {
		e := &r.Event
		msgTime := e.MsgTimeMs
		if msgTime == 0 {
			msgTime = e.OccurredAtMs
		}
		if err := b.Append(e.EventID, e.Source, e.App, e.PlatformType, ms(msgTime), ms(e.OccurredAtMs), ms(e.ReceivedAtMs),
			e.Actor, e.ActorNick, e.ActorClientType, e.ActorDeviceID, e.ActorIP, e.Target.Server, e.Target.Channel,
			e.Target.Group, e.Target.Account, e.MsgID, e.ClientMsgID, e.MsgType, e.Body, nonNil(e.Attrs),
			r.Partition, r.Offset); err != nil {
			return fmt.Errorf("append event %s to messages batch: %w", e.EventID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d rows into messages: %w", len(rows), err)
	}
	return nil
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
