package chconn

import (
	"errors"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// A write that fails failed for one of two reasons, and they call for opposite answers:
//
//   - The data: ClickHouse refused these rows themselves (a value it cannot parse or convert, a
//     constraint, a function that throws on the value). The same rows are refused again however often
//     they are sent; the writer must set them aside (dead-letter them with ClickHouse's words) and go
//     on with the others.
//   - Everything else: the server is down or overloaded (connection refused or reset, a timeout, an
//     HTTP 5xx from a proxy, MEMORY_LIMIT_EXCEEDED, TOO_MANY_PARTS, a read-only replica, Keeper lost),
//     or the schema or the permissions are not what the binary needs (UNKNOWN_TABLE,
//     NO_SUCH_COLUMN_IN_TABLE, ACCESS_DENIED, READONLY). Nothing is wrong with the rows: they must be
//     retried, never set aside, until an operator or the server fixes it.
//
// The classification goes by ClickHouse's exception code (clickhouse-go's *clickhouse.Exception, over
// HTTP and native alike), never by the HTTP status (a server answers 500 for most exceptions, data or
// not) or the message. Only the codes in DataErrorCodes are data errors; every other error, and an
// error that is not a ClickHouse exception at all, is retried. An unknown code is therefore retried:
// a stalled partition with a clear log line is better than rows set aside by mistake.

// DataErrorCodes are the ClickHouse exception codes that mean "these rows are refused for what they
// hold" (names as in ClickHouse's src/Common/ErrorCodes.cpp).
var DataErrorCodes = map[int32]string{
	6:   "CANNOT_PARSE_TEXT",
	26:  "CANNOT_PARSE_QUOTED_STRING",
	27:  "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
	38:  "CANNOT_PARSE_DATE",
	41:  "CANNOT_PARSE_DATETIME",
	69:  "ARGUMENT_OUT_OF_BOUND",
	70:  "CANNOT_CONVERT_TYPE",
	72:  "CANNOT_PARSE_NUMBER",
	117: "INCORRECT_DATA",
	131: "TOO_LARGE_STRING_SIZE",
	190: "SIZES_OF_ARRAYS_DONT_MATCH",
	321: "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
	349: "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN",
	376: "CANNOT_PARSE_UUID",
	395: "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO",
	469: "VIOLATED_CONSTRAINT",
}

// ErrRowRefused marks an error about one row's values found before anything was sent (the client
// could not encode the value into the column's type). Writers wrap it; IsDataError reports it.
var ErrRowRefused = errors.New("row refused")

// IsDataError reports whether err means that ClickHouse refused the rows for what they hold: a
// ClickHouse exception whose code is in DataErrorCodes, or ErrRowRefused. Everything else (outages,
// timeouts, overload, schema and permission errors, unknown codes) is not.
func IsDataError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrRowRefused) {
		return true
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		_, ok := DataErrorCodes[ex.Code]
		return ok
	}
	return false
}
