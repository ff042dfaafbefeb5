// Package event defines the canonical event envelope that every platform callback is normalized into,
// and the deterministic event_id rules.
//
// An Event is what travels on the events topic as JSON (one record per event, SchemaVersion 1) and what
// the pipeline writes into ClickHouse. The envelope is versioned: a field is never renamed or given a new
// meaning within a version; new optional fields may be added. The JSON Schema of version 1 is
// schema/v1.json in this folder and is tested against the Go type.
//
// Nothing the platform sent is dropped: fields that have a first-class place in the envelope are copied
// there, and every top-level field of the platform's payload, first-class or not, is also kept verbatim
// in Attrs (the value's JSON text, strings unquoted), so the raw meaning survives a normalizer bug. The
// bytes exactly as received live on the raw topic; an Event names them by RawKey.
package event
