// Package export writes an auditor's export — the archived events of a selection and every raw
// payload behind them — as JSON-lines or CSV files with a manifest, and re-checks an export offline.
//
// An export directory holds one file per archive view (messages, message_updates, notifications,
// presence_events, community_events, quick_comments; the columns of the views, attrs as JSON), the raw
// records (raw_callbacks: every receipt of every selected event, the body as Base64 of the exact bytes,
// its SHA-256 and its link in the raw archive's hash chain), manifest.json and SHA256SUMS.
//
// manifest.json says what was selected and when, the format, per file its rows, bytes, SHA-256 and the
// time span of its events, the SHA-256 and chain position of every raw payload, the events that have
// no raw record (with why that can be), and the hash chain's heads at export time — anchors for
// imarchive audit verify --anchor. SHA256SUMS lists every file and the manifest in sha256sum's format,
// so an auditor without imarchive can check the files with standard tools.
//
// Verify (imarchive export verify DIR) needs no database: it re-hashes every file, counts its rows,
// decodes every raw payload and re-hashes it, re-computes each payload's chain hash from the payload
// and its headers, checks that every exported event has its raw payload (or is listed as having none),
// and that the directory holds nothing the manifest does not list.
package export

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Formats an export can be written in.
const (
	FormatJSONL = "jsonl" // one JSON object per line, columns in the views' order
	FormatCSV   = "csv"   // RFC 4180, a header row; maps and arrays as JSON text
)

// ManifestName and SumsName are the two files beside the data files.
const (
	ManifestName = "manifest.json"
	SumsName     = "SHA256SUMS"
	// ManifestVersion is the manifest's format version.
	ManifestVersion = 1
)

// Selection says what to export: the events of App (every application when empty) about Account,
// ChannelID, GroupID and ServerID (each: any when empty; all given ones must hold) whose time is in
// [From, To). An event's time is a message's send time, otherwise the platform's time, or when it was
// received where the platform gives none.
type Selection struct {
	App       string `json:"app"`
	Account   string `json:"account"`
	ChannelID string `json:"channel_id"`
	GroupID   string `json:"group_id"`
	ServerID  string `json:"server_id"`
	From      time.Time
	To        time.Time
}

// Validate reports every problem at once.
func (s Selection) Validate() error {
	var errs []error
	if s.To.IsZero() {
		errs = append(errs, errors.New("selection: no end time"))
	} else if !s.From.Before(s.To) {
		errs = append(errs, fmt.Errorf("selection: from %s is not before to %s", s.From.UTC().Format(time.RFC3339), s.To.UTC().Format(time.RFC3339)))
	}
	for name, v := range map[string]string{"app": s.App, "account": s.Account, "channel": s.ChannelID, "group": s.GroupID, "server": s.ServerID} {
		if v != strings.TrimSpace(v) {
			errs = append(errs, fmt.Errorf("selection: %s %q has leading or trailing spaces", name, v))
		}
	}
	return errors.Join(errs...)
}

// String describes the selection for people.
func (s Selection) String() string {
	var parts []string
	for _, kv := range [][2]string{{"app", s.App}, {"account", s.Account}, {"channel", s.ChannelID}, {"group", s.GroupID}, {"server", s.ServerID}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	parts = append(parts, "from="+s.From.UTC().Format(time.RFC3339Nano), "to="+s.To.UTC().Format(time.RFC3339Nano))
	return strings.Join(parts, " ")
}

const paramTime = "2006-01-02 15:04:05.000"

func (s Selection) params() map[string]string {
	return map[string]string{
		"app": s.App, "account": s.Account, "channel_id": s.ChannelID, "group_id": s.GroupID, "server_id": s.ServerID,
		"from": s.From.UTC().Format(paramTime), "to": s.To.UTC().Format(paramTime),
	}
}

// Manifest is manifest.json.
type Manifest struct {
	FormatVersion int               `json:"format_version"`
	Tool          string            `json:"tool"`
	CreatedAt     string            `json:"created_at"`
	Selection     ManifestSelection `json:"selection"`
	Format        string            `json:"format"`
	// CSVEscaping, in a CSV export, is how cells that a spreadsheet would take for a formula were
	// written (csvcell.Rule: a leading quote); the JSON-lines export is byte-exact and has none.
	CSVEscaping string `json:"csv_escaping,omitempty"`
	// TimeSpan is the earliest and latest event time in the export (empty when it holds no event).
	TimeSpan Span   `json:"time_span"`
	Files    []File `json:"files"`
	// RawPayloads lists every raw record in the raw file: its place in the raw topic and the SHA-256
	// of its body as received.
	RawPayloads []Payload `json:"raw_payloads"`
	// EventsWithoutRaw are exported events with no raw record in the archive: removed by a retention
	// pass, or not yet archived by the raw consumer when the export ran.
	EventsWithoutRaw []string `json:"events_without_raw"`
	// ChainHeads are the raw archive's hash-chain heads when the export ran (imarchive audit verify
	// --anchor PARTITION:OFFSET:HASH).
	ChainHeads []Head `json:"chain_heads"`
}

// ManifestSelection is the selection as recorded.
type ManifestSelection struct {
	App       string `json:"app"`
	Account   string `json:"account"`
	ChannelID string `json:"channel_id"`
	GroupID   string `json:"group_id"`
	ServerID  string `json:"server_id"`
	From      string `json:"from"`
	To        string `json:"to"`
}

// Span is a time span, as UTC text with milliseconds.
type Span struct {
	First string `json:"first"`
	Last  string `json:"last"`
}

// File is one data file of the export.
type File struct {
	Name   string `json:"name"`
	View   string `json:"view"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Span is the time span of the file's events (empty for the raw file and empty files).
	Span Span `json:"time_span"`
}

// Payload is one raw record in the export.
type Payload struct {
	EventID    string `json:"event_id"`
	Partition  int32  `json:"raw_partition"`
	Offset     int64  `json:"raw_offset"`
	ReceivedAt string `json:"received_at"`
	SHA256     string `json:"sha256"`
	ChainHash  string `json:"chain_hash"`
}

// Head is a hash-chain head.
type Head struct {
	Partition int32  `json:"raw_partition"`
	Offset    int64  `json:"raw_offset"`
	Hash      string `json:"hash"`
}

// table is one data file: the view, its storage table (as export_selection names it), its statement.
type table struct{ view, storage, statement string }

var tables = []table{
	{"messages", "messages_data", "export_messages"},
	{"message_updates", "message_updates_data", "export_message_updates"},
	{"notifications", "notifications_data", "export_notifications"},
	{"presence_events", "presence_events_data", "export_presence_events"},
	{"community_events", "community_events_data", "export_community_events"},
	{"quick_comments", "quick_comments_data", "export_quick_comments"},
}

const rawView = "raw_callbacks"

func fileName(view, format string) string { return view + "." + format }
