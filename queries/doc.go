// Package queries holds the named SQL queries, one .sql file each, embedded in the binary. The CLI
// (imarchive query) and the dashboards use these same files, so every query has one source.
//
// Each file starts with a header of "-- key: value" lines:
//
//	-- name: message_history                    the file's name without .sql
//	-- summary: what the query answers
//	-- param: NAME TYPE  description             one per ClickHouse query parameter {NAME:TYPE}
//	-- column: NAME TYPE  description            one per result column, in order
//
// Parameters are ClickHouse query parameters, bound by the server, never built into the SQL text.
// Every declared parameter is required; the SQL uses each with exactly the declared type (tested).
package queries
