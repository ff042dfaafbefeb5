// Package schema holds the ClickHouse DDL as numbered, forward-only migration files, embedded in the
// binary, and applies them.
//
// A file is NNNN_name.sql (numbers unique and increasing; gaps are allowed, so parallel work can reserve
// ranges); its statements end with a semicolon at the end of a line. Migrate records each
// applied file (version, name, SHA-256 of the text, time) in schema_migrations and never applies a file
// twice; the DDL itself uses IF NOT EXISTS so that re-running a file interrupted half-way is safe. A file
// that changed after it was applied is an error: add a new file instead.
package schema
