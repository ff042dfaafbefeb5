#!/usr/bin/env python3
"""A ClickHouse HTTP-interface server over chDB (ClickHouse in-process engine).

chDB is the real ClickHouse engine (the same parser, planner, storage engines,
MergeTree, formats, settings and error codes); this file only provides the
HTTP wire protocol that clickhouse-go (Protocol: clickhouse.HTTP) and curl
speak to a ClickHouse server on port 8123. See README.md beside this file.

Usage:
    python3 chdb_http.py --path DATA_DIR [--host 127.0.0.1] [--port 18123]

Standard library only (plus chdb, and pyarrow which chdb depends on, for the
LZ4/ZSTD/Brotli codecs).
"""

from __future__ import annotations

import argparse
import bz2
import email.parser
import email.policy
import gzip
import json
import lzma
import os
import re
import signal
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# --------------------------------------------------------------------------
# CityHash128 as used by ClickHouse (CityHash v1.0.2) for the checksums of
# native compressed blocks (compress=1 / decompress=1).
# --------------------------------------------------------------------------

_M64 = 0xFFFFFFFFFFFFFFFF
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F
_K3 = 0xC949D7C7509E6557
_KMUL = 0x9DDFEA08EB382D69


def _rot(v: int, s: int) -> int:
    if s == 0:
        return v
    return ((v >> s) | (v << (64 - s))) & _M64


def _smix(v: int) -> int:
    return v ^ (v >> 47)


def _h16(u: int, v: int) -> int:
    a = ((u ^ v) * _KMUL) & _M64
    a ^= a >> 47
    b = ((v ^ a) * _KMUL) & _M64
    b ^= b >> 47
    return (b * _KMUL) & _M64


def _u64(s, i: int) -> int:
    return int.from_bytes(s[i:i + 8], "little")


def _u32(s, i: int) -> int:
    return int.from_bytes(s[i:i + 4], "little")


def _len0to16(s, n: int) -> int:
    if n > 8:
        a = _u64(s, 0)
        b = _u64(s, n - 8)
        return _h16(a, _rot((b + n) & _M64, n)) ^ b
    if n >= 4:
        a = _u32(s, 0)
        return _h16((n + (a << 3)) & _M64, _u32(s, n - 4))
    if n > 0:
        a, b, c = s[0], s[n >> 1], s[n - 1]
        y = (a + (b << 8)) & 0xFFFFFFFF
        z = (n + (c << 2)) & 0xFFFFFFFF
        return (_smix(((y * _K2) ^ (z * _K3)) & _M64) * _K2) & _M64
    return _K2


def _murmur(s, lo: int, hi: int):
    n = len(s)
    a, b, c, d = lo, hi, 0, 0
    if n <= 16:
        a = (_smix((a * _K1) & _M64) * _K1) & _M64
        c = (b * _K1 + _len0to16(s, n)) & _M64
        d = _smix((a + (_u64(s, 0) if n >= 8 else c)) & _M64)
    else:
        c = _h16((_u64(s, n - 8) + _K1) & _M64, a)
        d = _h16((b + n) & _M64, (c + _u64(s, n - 16)) & _M64)
        a = (a + d) & _M64
        pos, left = 0, n - 16
        while True:
            a ^= (_smix((_u64(s, pos) * _K1) & _M64) * _K1) & _M64
            a = (a * _K1) & _M64
            b ^= a
            c ^= (_smix((_u64(s, pos + 8) * _K1) & _M64) * _K1) & _M64
            c = (c * _K1) & _M64
            d ^= c
            pos += 16
            left -= 16
            if left <= 0:
                break
    a = _h16(a, c)
    b = _h16(d, b)
    return a ^ b, _h16(b, a)


def _weak(w, x, y, z, a, b):
    a = (a + w) & _M64
    b = _rot((b + a + z) & _M64, 21)
    c = a
    a = (a + x + y) & _M64
    b = (b + _rot(a, 44)) & _M64
    return (a + z) & _M64, (b + c) & _M64


_Q16 = struct.Struct("<16Q")
_Q4 = struct.Struct("<4Q")


def _city128_seed(s, lo: int, hi: int):
    n = len(s)
    if n < 128:
        return _murmur(s, lo, hi)
    x, y = lo, hi
    z = (n * _K1) & _M64
    v0 = (_rot(y ^ _K1, 49) * _K1 + _u64(s, 0)) & _M64
    v1 = (_rot(v0, 42) * _K1 + _u64(s, 8)) & _M64
    w0 = (_rot((y + z) & _M64, 35) * _K1 + x) & _M64
    w1 = (_rot((x + _u64(s, 88)) & _M64, 53) * _K1) & _M64
    pos = 0
    unpack = _Q16.unpack_from
    while n - pos >= 128:
        q = unpack(s, pos)
        for base in (0, 8):
            x = (_rot((x + y + v0 + q[base + 2]) & _M64, 37) * _K1) & _M64
            y = (_rot((y + v1 + q[base + 6]) & _M64, 42) * _K1) & _M64
            x ^= w1
            y ^= v0
            z = _rot(z ^ w0, 33)
            nv = _weak(q[base + 0], q[base + 1], q[base + 2], q[base + 3], (v1 * _K1) & _M64, (x + w0) & _M64)
            nw = _weak(q[base + 4], q[base + 5], q[base + 6], q[base + 7], (z + w1) & _M64, y)
            v0, v1 = nv
            w0, w1 = nw
            z, x = x, z
        pos += 128
    y = (y + _rot(w0, 37) * _K0 + z) & _M64
    x = (x + _rot((v0 + z) & _M64, 49) * _K0) & _M64
    rem = n - pos
    i = 0
    while i < rem:
        i += 32
        y = (_rot((y - x) & _M64, 42) * _K0 + v1) & _M64
        w0 = (w0 + _u64(s, n - i + 16)) & _M64
        x = (_rot(x, 49) * _K0 + w0) & _M64
        w0 = (w0 + v0) & _M64
        v0, v1 = _weak(*_Q4.unpack_from(s, n - i), v0, v1)
    x = _h16(x, v0)
    y = _h16(y, w0)
    return (_h16((x + v1) & _M64, w1) + y) & _M64, _h16((x + w1) & _M64, (y + v1) & _M64)


def cityhash128(data) -> bytes:
    """ClickHouse's CityHash128 of data, as the 16 bytes written on the wire."""
    s = memoryview(data)
    n = len(s)
    if n >= 16:
        lo, hi = _city128_seed(s[16:], _u64(s, 0) ^ _K3, _u64(s, 8))
    elif n >= 8:
        lo, hi = _city128_seed(b"", _u64(s, 0) ^ ((n * _K0) & _M64), _u64(s, n - 8) ^ _K1)
    else:
        lo, hi = _city128_seed(s, _K0, _K1)
    return lo.to_bytes(8, "little") + hi.to_bytes(8, "little")


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

# Error names ClickHouse maps to a non-500 HTTP status
# (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp).
_HTTP_STATUS_BY_NAME = {}
for _n in ("REQUIRED_PASSWORD",):
    _HTTP_STATUS_BY_NAME[_n] = 401
for _n in ("UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE"):
    _HTTP_STATUS_BY_NAME[_n] = 403
for _n in ("BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE",
           "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER",
           "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6",
           "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN",
           "UNKNOWN_ELEMENT_IN_AST", "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST",
           "TOO_BIG_AST", "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR", "INCORRECT_DATA", "TYPE_MISMATCH",
           "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"):
    _HTTP_STATUS_BY_NAME[_n] = 400
for _n in ("UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE",
           "UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION",
           "UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"):
    _HTTP_STATUS_BY_NAME[_n] = 404
_HTTP_STATUS_BY_NAME.update({
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "SOCKET_TIMEOUT": 503,
    "CANNOT_OPEN_FILE": 503,
    "HTTP_LENGTH_REQUIRED": 411,
    "TIMEOUT_EXCEEDED": 408,
    "CANNOT_SCHEDULE_TASK": 503,
})

# Codes of the errors this server raises itself (same numbers as ClickHouse's
# src/Common/ErrorCodes.cpp; checked against errorCodeToName() at startup).
_OWN_CODES = {
    "BAD_ARGUMENTS": 36,
    "CHECKSUM_DOESNT_MATCH": 40,
    "NOT_IMPLEMENTED": 48,
    "SYNTAX_ERROR": 62,
    "UNKNOWN_COMPRESSION_METHOD": 89,
    "UNKNOWN_SETTING": 115,
    "CANNOT_DECOMPRESS": 271,
    "INTO_OUTFILE_NOT_ALLOWED": 358,
    "SESSION_NOT_FOUND": 372,
    "SESSION_IS_LOCKED": 373,
    "INVALID_SESSION_TIMEOUT": 374,
    "STD_EXCEPTION": 1001,
}

_VERSION_SUFFIX = "(version unknown)"  # replaced at startup


class CHError(Exception):
    """A ClickHouse server exception: code, symbolic name and message."""

    def __init__(self, name: str, message: str, code: int | None = None):
        super().__init__(message)
        self.name = name
        self.code = code if code is not None else _OWN_CODES.get(name, 1001)
        self.message = message

    def text(self) -> str:
        msg = self.message.rstrip()
        if msg.endswith("."):
            msg = msg[:-1]
        return f"Code: {self.code}. DB::Exception: {msg}. ({self.name}) {_VERSION_SUFFIX}"

    def http_status(self) -> int:
        return _HTTP_STATUS_BY_NAME.get(self.name, 500)


_RE_CODE = re.compile(r"Code: (\d+)\. ")
_RE_PREFIX = re.compile(r"^(?:Code: \d+\. )?(?:DB::)?Exception: ")
_RE_VERSION_TAIL = re.compile(r"\s*\(version [^()]*(?:\([^()]*\))?[^()]*\)\.?\s*$")
_RE_NAME_TAIL = re.compile(r"\.?\s*\(([A-Z][A-Z0-9_]+)\)\.?\s*$")


def _error_counts(conn) -> dict:
    """How often each error code was raised so far (system.errors)."""
    r = conn.query("SELECT code, value FROM system.errors", "TabSeparated")
    out = {}
    for line in bytes(r.bytes() if hasattr(r, "bytes") else r).decode().splitlines():
        code, value = line.split("\t")
        out[int(code)] = int(value)
    return out


def _new_error(conn, before: dict) -> "CHError | None":
    """The exception a streaming INSERT raised but chDB 4.4 did not pass on, or None.

    chDB's send_insert() reports success for an INSERT whose sink stage threw: a
    CONSTRAINT violated (VIOLATED_CONSTRAINT), a throwIf() in a materialized view,
    too many partitions in one block (TOO_MANY_PARTS)... The rows are not written
    (or only partly, past a materialized view), but finish() returns normally; a
    ClickHouse server answers such an INSERT with the exception. The engine still
    counts the error in system.errors: an error code counted during the INSERT is
    its exception (requests are serialized, so nothing else ran meanwhile).
    """
    after = _error_counts(conn)
    grown = [code for code, n in after.items() if n > before.get(code, 0)]
    if not grown:
        return None
    codes = ", ".join(str(c) for c in grown)
    r = conn.query(
        "SELECT name, code, last_error_message FROM system.errors WHERE code IN (" + codes + ") "
        "ORDER BY last_error_time DESC LIMIT 1", "TabSeparatedRaw")
    line = bytes(r.bytes() if hasattr(r, "bytes") else r).decode().rstrip("\n")
    name, code, message = line.split("\t", 2)
    return CHError(name, message, int(code))


def chdb_error(exc: BaseException) -> CHError:
    """Turn a chDB exception into a CHError with ClickHouse's code and name.

    chDB sometimes wraps a message twice ("Code: 115. DB::Exception: Code: 115.
    DB::Exception: ... (UNKNOWN_SETTING) (version 26.9.2.1). (UNKNOWN_SETTING)")
    or prefixes it ("Streaming insert finish failed: Code: ..."); the result is
    the single message a ClickHouse server would send.
    """
    if isinstance(exc, CHError):
        return exc
    raw = str(exc)
    m = _RE_CODE.search(raw)
    if not m:
        return CHError("STD_EXCEPTION", f"{type(exc).__name__}: {raw}")
    code = int(m.group(1))
    msg = raw[m.start():]
    while True:
        new = _RE_PREFIX.sub("", msg, count=1)
        if new == msg:
            break
        msg = new
    name = None
    while True:
        changed = False
        v = _RE_VERSION_TAIL.search(msg)
        if v:
            msg = msg[:v.start()]
            changed = True
        t = _RE_NAME_TAIL.search(msg)
        if t:
            if name is None:
                name = t.group(1)
            msg = msg[:t.start()]
            changed = True
        if not changed:
            break
    return CHError(name or "UNKNOWN_EXCEPTION", msg.strip(), code)


# --------------------------------------------------------------------------
# ClickHouse native block compression (compress=1 / decompress=1)
# --------------------------------------------------------------------------

try:
    import pyarrow as _pa  # chdb depends on pyarrow; used only for codecs
except Exception:  # pragma: no cover
    _pa = None


def _codec(name: str):
    if _pa is None or not _pa.Codec.is_available(name):
        return None
    return _pa.Codec(name)


_LZ4_RAW = _codec("lz4_raw")
_ZSTD = _codec("zstd")

_METHOD_NONE, _METHOD_LZ4, _METHOD_ZSTD = 0x02, 0x82, 0x90
_NATIVE_BLOCK = 1 << 20  # DBMS_DEFAULT_BUFFER_SIZE


def native_decompress(data: bytes, verify: bool = True) -> bytes:
    """Decode a stream of ClickHouse compressed blocks (CompressedReadBuffer)."""
    out = bytearray()
    mv = memoryview(data)
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < 25:
            raise CHError("CANNOT_DECOMPRESS", "Cannot decompress: truncated compressed block header")
        checksum = bytes(mv[pos:pos + 16])
        method = mv[pos + 16]
        size_compressed = int.from_bytes(mv[pos + 17:pos + 21], "little")
        size_decompressed = int.from_bytes(mv[pos + 21:pos + 25], "little")
        if size_compressed < 9 or pos + 16 + size_compressed > n:
            raise CHError("CANNOT_DECOMPRESS", "Cannot decompress: compressed block is truncated or has a bad size")
        frame = mv[pos + 16:pos + 16 + size_compressed]
        if verify and cityhash128(frame) != checksum:
            raise CHError("CHECKSUM_DOESNT_MATCH",
                          "Checksum doesn't match: corrupted data. Reference: %s. Actual: %s. Size of compressed block: %d"
                          % (checksum.hex(), cityhash128(frame).hex(), size_compressed))
        payload = frame[9:]
        if method == _METHOD_NONE:
            out += payload
        elif method == _METHOD_LZ4:
            if _LZ4_RAW is None:
                raise CHError("NOT_IMPLEMENTED", "LZ4 is not available (pyarrow lz4 codec missing)")
            out += _LZ4_RAW.decompress(payload, decompressed_size=size_decompressed, asbytes=True)
        elif method == _METHOD_ZSTD:
            if _ZSTD is None:
                raise CHError("NOT_IMPLEMENTED", "ZSTD is not available (pyarrow zstd codec missing)")
            out += _ZSTD.decompress(payload, decompressed_size=size_decompressed, asbytes=True)
        else:
            raise CHError("UNKNOWN_COMPRESSION_METHOD",
                          "Unknown compression method in native compressed block: 0x%02x" % method)
        pos += 16 + size_compressed
    return bytes(out)


def native_compress(data: bytes, method_name: str = "LZ4") -> bytes:
    """Encode data as ClickHouse compressed blocks (CompressedWriteBuffer)."""
    method_name = (method_name or "LZ4").upper()
    out = bytearray()
    mv = memoryview(data)
    for start in range(0, len(data), _NATIVE_BLOCK):
        chunk = mv[start:start + _NATIVE_BLOCK]
        if method_name in ("LZ4", "LZ4HC") and _LZ4_RAW is not None:
            method, payload = _METHOD_LZ4, _LZ4_RAW.compress(chunk, asbytes=True)
        elif method_name == "ZSTD" and _ZSTD is not None:
            method, payload = _METHOD_ZSTD, _ZSTD.compress(chunk, asbytes=True)
        elif method_name == "NONE":
            method, payload = _METHOD_NONE, bytes(chunk)
        else:
            raise CHError("UNKNOWN_COMPRESSION_METHOD", f"Unknown or unsupported network compression method {method_name}")
        frame = bytes([method]) + struct.pack("<II", len(payload) + 9, len(chunk)) + payload
        out += cityhash128(frame) + frame
    return bytes(out)


# --------------------------------------------------------------------------
# HTTP Content-Encoding (request bodies, and responses when
# enable_http_compression=1 and the client sends Accept-Encoding)
# --------------------------------------------------------------------------

def _pa_stream_decompress(data: bytes, codec: str) -> bytes:
    if _pa is None or not _pa.Codec.is_available(codec):
        raise CHError("NOT_IMPLEMENTED", f"Content-Encoding {codec} is not supported by this server (no codec)")
    with _pa.input_stream(_pa.py_buffer(data), compression=codec) as f:
        return f.read()


def _pa_stream_compress(data: bytes, codec: str) -> bytes:
    sink = _pa.BufferOutputStream()
    with _pa.CompressedOutputStream(sink, codec) as f:
        f.write(data)
    return sink.getvalue().to_pybytes()


def http_decode_body(data: bytes, encoding: str) -> bytes:
    enc = (encoding or "").strip().lower()
    if enc in ("", "identity", "none"):
        return data
    try:
        if enc in ("gzip", "x-gzip"):
            return gzip.decompress(data)
        if enc == "deflate":
            try:
                return zlib.decompress(data)
            except zlib.error:
                return zlib.decompress(data, -15)
        if enc == "xz":
            return lzma.decompress(data)
        if enc in ("bz2", "bzip2"):
            return bz2.decompress(data)
        if enc in ("br", "brotli"):
            return _pa_stream_decompress(data, "brotli")
        if enc in ("zstd", "zst"):
            return _pa_stream_decompress(data, "zstd")
        if enc == "lz4":
            return _pa_stream_decompress(data, "lz4")
    except CHError:
        raise
    except Exception as e:
        raise CHError("CANNOT_DECOMPRESS", f"Cannot decompress request body with Content-Encoding {enc}: {e}")
    if enc == "snappy":
        raise CHError("NOT_IMPLEMENTED", "Content-Encoding snappy is not supported by this server")
    raise CHError("BAD_ARGUMENTS", f"Unknown compression method '{enc}'. Only 'auto', 'none', 'gzip', 'deflate', "
                                   "'br', 'xz', 'zstd', 'lz4', 'bz2', 'snappy' are supported as compression methods")


def http_choose_response_encoding(accept: str):
    """Same choice as ClickHouse's chooseHTTPCompressionMethod (substring match, fixed preference)."""
    accept = (accept or "").lower()
    for token, codec in (("zstd", "zstd"), ("br", "brotli"), ("lz4", "lz4"), ("gzip", None),
                         ("deflate", None), ("xz", None), ("bz2", None)):
        if token in accept:
            if codec is not None and (_pa is None or not _pa.Codec.is_available(codec)):
                continue
            return token
    return None


def http_encode_body(data: bytes, enc: str, level: int = 3) -> bytes:
    if enc == "gzip":
        return gzip.compress(data, compresslevel=max(1, min(9, level)))
    if enc == "deflate":
        return zlib.compress(data, max(1, min(9, level)))
    if enc == "xz":
        return lzma.compress(data)
    if enc == "bz2":
        return bz2.compress(data)
    if enc == "br":
        return _pa_stream_compress(data, "brotli")
    if enc in ("zstd", "lz4"):
        return _pa_stream_compress(data, enc)
    return data


# --------------------------------------------------------------------------
# Native format re-framing.
#
# chDB writes the Native output format as clickhouse-local does, i.e. for
# client protocol revision 0: no BlockInfo, no per-column serialization-kind
# byte. A ClickHouse server answering an HTTP request with
# client_protocol_version=N (clickhouse-go always sends it) writes each block
# as for a native-protocol client of revision N: BlockInfo first (N > 0) and a
# "has custom serialization" byte after each column's type
# (N >= 54454). The column data itself is identical, so this code walks the
# blocks, skips over each column's data by its type, and inserts those bytes.
# --------------------------------------------------------------------------

DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION = 54454
_BLOCK_INFO = b"\x01\x00\x02\xff\xff\xff\xff\x00"  # is_overflows=0, bucket_num=-1, end

_FIXED = {
    "UInt8": 1, "Int8": 1, "Bool": 1, "Enum8": 1, "Nothing": 1,
    "UInt16": 2, "Int16": 2, "Date": 2, "Enum16": 2, "BFloat16": 2,
    "UInt32": 4, "Int32": 4, "Float32": 4, "Date32": 4, "DateTime": 4, "IPv4": 4, "Time": 4, "Decimal32": 4,
    "UInt64": 8, "Int64": 8, "Float64": 8, "DateTime64": 8, "Time64": 8, "Decimal64": 8,
    "UInt128": 16, "Int128": 16, "UUID": 16, "IPv6": 16, "Decimal128": 16,
    "UInt256": 32, "Int256": 32, "Decimal256": 32,
}
_ALIASES = {
    "Point": "Tuple(Float64, Float64)",
    "Ring": "Array(Point)",
    "LineString": "Array(Point)",
    "MultiLineString": "Array(LineString)",
    "Polygon": "Array(Ring)",
    "MultiPolygon": "Array(Polygon)",
    "Geometry": "Variant(LineString, MultiLineString, MultiPolygon, Point, Polygon, Ring)",
}


class _T:
    __slots__ = ("name", "args", "size")

    def __init__(self, name, args, size=None):
        self.name, self.args, self.size = name, args, size


def _split_args(s: str):
    out, depth, cur, i, n = [], 0, [], 0, len(s)
    while i < n:
        c = s[i]
        if c in "'`\"":
            j = i + 1
            while j < n and s[j] != c:
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    if cur or out:
        out.append("".join(cur).strip())
    return out


_RE_NAMED_ELEM = re.compile(r"^(`(?:[^`\\]|\\.)*`|[A-Za-z_][A-Za-z0-9_.]*)\s+(\S.*)$", re.S)
_type_cache: dict = {}


def parse_type(s: str) -> _T:
    t = _type_cache.get(s)
    if t is None:
        t = _parse_type(s.strip())
        if len(_type_cache) < 10000:
            _type_cache[s] = t
    return t


def _parse_type(s: str) -> _T:
    p = s.find("(")
    if p < 0:
        name, raw = s, []
    else:
        name, raw = s[:p].strip(), _split_args(s[p + 1:s.rstrip().rfind(")")])
    if name in _ALIASES:
        return _parse_type(_ALIASES[name])
    if name in _FIXED:
        return _T("fixed", None, _FIXED[name])
    if name.startswith("Interval"):
        return _T("fixed", None, 8)
    if name == "Decimal":
        prec = int(raw[0])
        return _T("fixed", None, 4 if prec <= 9 else 8 if prec <= 18 else 16 if prec <= 38 else 32)
    if name == "String":
        return _T("string", None)
    if name == "FixedString":
        return _T("fixed", None, int(raw[0]))
    if name in ("Nullable", "Array", "LowCardinality"):
        return _T(name, [parse_type(raw[0])])
    if name == "SimpleAggregateFunction":
        return parse_type(raw[-1])
    if name == "Map":
        return _T("Map", [parse_type(raw[0]), parse_type(raw[1])])
    if name in ("Tuple", "Nested"):
        elems = []
        for a in raw:
            m = _RE_NAMED_ELEM.match(a)
            if m and "(" not in a[:m.start(2)]:
                a = m.group(2)
            elems.append(parse_type(a))
        if name == "Nested":
            return _T("Array", [_T("Tuple", elems)])
        return _T("Tuple", elems)
    if name == "Variant":
        return _T("Variant", [parse_type(a) for a in raw])
    raise CHError("NOT_IMPLEMENTED",
                  f"chdb_http: cannot re-frame Native output for column type {s} for client_protocol_version > 0 "
                  f"(types Dynamic, JSON, Object, AggregateFunction, QBit are not supported by this test server)")


def _varuint(buf, pos):
    x, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        x |= (b & 0x7F) << shift
        if b < 0x80:
            return x, pos
        shift += 7


def _skip_prefix(t: _T, buf, pos, state):
    k = t.name
    if k == "LowCardinality":
        return pos + 8
    if k in ("Nullable", "Array", "Tuple", "Map"):
        for a in t.args:
            pos = _skip_prefix(a, buf, pos, state)
        return pos
    if k == "Variant":
        mode = int.from_bytes(buf[pos:pos + 8], "little")
        if mode != 0:
            raise CHError("NOT_IMPLEMENTED", "chdb_http: compact Variant discriminators are not supported")
        pos += 8
        for a in t.args:
            pos = _skip_prefix(a, buf, pos, state)
        return pos
    return pos


_IDX_SIZE = (1, 2, 4, 8)


def _skip_data(t: _T, buf, pos, rows, state):
    if rows == 0:
        return pos
    k = t.name
    if k == "fixed":
        return pos + t.size * rows
    if k == "string":
        vu = _varuint
        for _ in range(rows):
            ln = buf[pos]
            if ln < 0x80:
                pos += 1 + ln
            else:
                ln, pos = vu(buf, pos)
                pos += ln
        return pos
    if k == "Nullable":
        return _skip_data(t.args[0], buf, pos + rows, rows, state)
    if k in ("Array", "Map"):
        total = int.from_bytes(buf[pos + 8 * (rows - 1):pos + 8 * rows], "little")
        pos += 8 * rows
        for a in t.args:
            pos = _skip_data(a, buf, pos, total, state)
        return pos
    if k == "Tuple":
        for a in t.args:
            pos = _skip_data(a, buf, pos, rows, state)
        return pos
    if k == "LowCardinality":
        inner = t.args[0]
        if inner.name == "Nullable":
            inner = inner.args[0]
        done = 0
        while done < rows:
            flags = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8
            if flags & (1 << 8):
                raise CHError("NOT_IMPLEMENTED", "chdb_http: LowCardinality global dictionaries are not supported")
            if flags & (1 << 9):
                nkeys = int.from_bytes(buf[pos:pos + 8], "little")
                pos = _skip_data(inner, buf, pos + 8, nkeys, state)
            nidx = int.from_bytes(buf[pos:pos + 8], "little")
            pos += 8 + nidx * _IDX_SIZE[flags & 0xFF]
            done += nidx
        return pos
    if k == "Variant":
        counts = [0] * len(t.args)
        for d in bytes(buf[pos:pos + rows]):
            if d != 255:
                counts[d] += 1
        pos += rows
        for a, c in zip(t.args, counts):
            pos = _skip_data(a, buf, pos, c, state)
        return pos
    raise CHError("NOT_IMPLEMENTED", f"chdb_http: cannot skip column data of kind {k}")


def reframe_native(data: bytes, revision: int) -> bytes:
    """Rewrite revision-0 Native output as a ClickHouse server writes it for revision."""
    if revision <= 0 or not data:
        return data
    custom = revision >= DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION
    buf = memoryview(data)
    out = bytearray()
    pos, n = 0, len(data)
    try:
        while pos < n:
            out += _BLOCK_INFO
            start = pos
            ncols, pos = _varuint(buf, pos)
            nrows, pos = _varuint(buf, pos)
            out += buf[start:pos]
            for _ in range(ncols):
                start = pos
                ln, pos = _varuint(buf, pos)
                pos += ln
                ln, p2 = _varuint(buf, pos)
                type_name = bytes(buf[p2:p2 + ln]).decode("utf-8")
                pos = p2 + ln
                out += buf[start:pos]
                if custom:
                    out.append(0)
                if nrows:
                    t = parse_type(type_name)
                    start = pos
                    state: dict = {}
                    pos = _skip_prefix(t, buf, pos, state)
                    pos = _skip_data(t, buf, pos, nrows, state)
                    out += buf[start:pos]
    except CHError:
        raise
    except (IndexError, ValueError) as e:
        raise CHError("NOT_IMPLEMENTED", f"chdb_http: failed to re-frame Native output: {e}")
    if pos != n:
        raise CHError("NOT_IMPLEMENTED", "chdb_http: Native output re-framing overran the result")
    return bytes(out)


# --------------------------------------------------------------------------
# Minimal SQL lexing: enough to find where an INSERT's data starts, the
# FORMAT clause of a query and multi-statement bodies. Works on text decoded
# as latin-1 so that character offsets are byte offsets into the request.
# --------------------------------------------------------------------------

_WS = " \t\n\r\f\v"
_RE_HEREDOC = re.compile(r"\$([A-Za-z0-9_]*)\$")


def _tokens(s: str, i: int = 0):
    """Yield (kind, start, end): kind is 'w' word, 'q' quoted, 'n' number, 'p' punctuation."""
    n = len(s)
    while i < n:
        c = s[i]
        if c in _WS:
            i += 1
            continue
        if c == "-" and s.startswith("--", i) or c == "#" and (i + 1 >= n or s[i + 1] in " !"):
            j = s.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "/" and s.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if s.startswith("/*", j):
                    depth += 1
                    j += 2
                elif s.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    j += 1
            i = j
            continue
        if c in "'\"`":
            j = i + 1
            while j < n:
                if s[j] == "\\":
                    j += 2
                    continue
                if s[j] == c:
                    if j + 1 < n and s[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            yield "q", i, min(j + 1, n)
            i = j + 1
            continue
        if c == "$":
            m = _RE_HEREDOC.match(s, i)
            if m:
                end = s.find(m.group(0), m.end())
                end = n if end < 0 else end + len(m.group(0))
                yield "q", i, end
                i = end
                continue
        if c.isalpha() or c == "_" or ord(c) > 127:
            j = i + 1
            while j < n and (s[j].isalnum() or s[j] in "_$" or ord(s[j]) > 127):
                j += 1
            yield "w", i, j
            i = j
            continue
        if c.isdigit():
            j = i + 1
            while j < n and (s[j].isalnum() or s[j] in "._" or (s[j] in "+-" and s[j - 1] in "eEpP")):
                j += 1
            yield "n", i, j
            i = j
            continue
        yield "p", i, i + 1
        i += 1


def _ident(s: str, kind: str, a: int, b: int) -> str:
    if kind == "q" and s[a] in "`\"":
        return s[a + 1:b - 1]
    return s[a:b]


class ParsedRequest:
    """What the request text is: a plain query, or an INSERT with inline data."""

    def __init__(self):
        self.is_insert = False
        self.insert_stmt = None      # "INSERT INTO t (a, b) [SETTINGS ...]" for send_insert
        self.insert_format = None    # input format of the data
        self.data_offset = None      # byte offset of the data in the full request
        self.query = None            # full SQL text for a plain query
        self.output_format = None    # FORMAT clause of a plain query, if any


def split_request(full: bytes, formats: dict) -> ParsedRequest:
    """Split 'query param + newline + body' the way ClickHouse's parser does."""
    pr = ParsedRequest()
    text = full.decode("latin-1")
    toks = _tokens(text)
    first = next(toks, None)
    if first is None:
        raise CHError("SYNTAX_ERROR", "Empty query")
    if first[0] == "w" and text[first[1]:first[2]].upper() == "INSERT":
        depth = 0
        for kind, a, b in toks:
            if kind == "p":
                if text[a] == "(":
                    depth += 1
                elif text[a] == ")":
                    depth -= 1
                continue
            if depth == 0 and kind == "w":
                word = text[a:b].upper()
                if word in ("VALUES", "SELECT", "WITH"):
                    break  # ordinary INSERT ... VALUES / INSERT ... SELECT: run as one query
                if word == "FORMAT":
                    nxt = next(toks, None)
                    if nxt is None or nxt[0] not in ("w", "q"):
                        break
                    fmt = _ident(text, *nxt)
                    data = nxt[2]
                    while data < len(text) and text[data] in " \t\f":
                        data += 1
                    if data < len(text) and text[data] == "\r":
                        data += 1
                    if data < len(text) and text[data] == "\n":
                        data += 1
                    pr.is_insert = True
                    pr.insert_stmt = full[:a].decode("utf-8").strip()
                    pr.insert_format = formats.get(fmt.lower(), fmt)
                    pr.data_offset = data
                    return pr
        pr.query = full.decode("utf-8")
        return pr

    pr.query = full.decode("utf-8")
    # Top-level FORMAT clause (last one wins), INTO OUTFILE and extra statements.
    all_toks = [first] + list(toks)
    depth = 0
    for idx, (kind, a, b) in enumerate(all_toks):
        if kind == "p":
            ch = text[a]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == ";" and depth <= 0:
                rest = all_toks[idx + 1:]
                if any(not (k == "p" and text[x] == ";") for k, x, _ in rest):
                    raise CHError("SYNTAX_ERROR", "Multi-statements are not allowed")
            continue
        if depth != 0 or kind != "w":
            continue
        word = text[a:b].upper()
        if word == "INTO" and idx + 1 < len(all_toks):
            k2, a2, b2 = all_toks[idx + 1]
            if k2 == "w" and text[a2:b2].upper() == "OUTFILE":
                raise CHError("INTO_OUTFILE_NOT_ALLOWED", "INTO OUTFILE is not allowed")
        if word == "FORMAT" and idx + 1 < len(all_toks):
            k2, a2, b2 = all_toks[idx + 1]
            if k2 not in ("w", "q"):
                continue
            name = _ident(text, k2, a2, b2)
            canon = formats.get(name.lower())
            if canon is None:
                continue
            after = all_toks[idx + 2] if idx + 2 < len(all_toks) else None
            if after is None or (after[0] == "p" and text[after[1]] == ";") or \
                    (after[0] == "w" and text[after[1]:after[2]].upper() == "SETTINGS"):
                pr.output_format = canon
    return pr


# --------------------------------------------------------------------------
# Engine: one chDB engine per process, one chDB connection per request
# (or per HTTP session_id). Settings and the current database live on a
# chDB connection, so a fresh connection per request gives ClickHouse's
# per-query settings semantics for free.
# --------------------------------------------------------------------------

_RESERVED_PARAMS = {
    "compress", "decompress", "user", "password", "quota_key", "query_id", "stacktrace", "role",
    "buffer_size", "wait_end_of_query", "session_id", "session_timeout", "session_check",
    "client_protocol_version", "close_session", "database", "default_format", "query",
}
_RE_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "TSV": "text/tab-separated-values; charset=UTF-8",
    "TabSeparatedWithNames": "text/tab-separated-values; charset=UTF-8",
    "TabSeparatedWithNamesAndTypes": "text/tab-separated-values; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8; header=absent",
    "CSVWithNames": "text/csv; charset=UTF-8; header=present",
    "JSON": "application/json; charset=UTF-8",
    "JSONCompact": "application/json; charset=UTF-8",
    "JSONEachRow": "application/x-ndjson; charset=UTF-8",
    "JSONCompactEachRow": "application/x-ndjson; charset=UTF-8",
    "XML": "application/xml; charset=UTF-8",
}


def _sql_string(v: str) -> str:
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_ident(v: str) -> str:
    return "`" + v.replace("\\", "\\\\").replace("`", "\\`") + "`"


class Session:
    def __init__(self, conn, timeout):
        self.conn = conn
        self.timeout = timeout
        self.last_used = time.monotonic()
        self.lock = threading.Lock()


class Engine:
    def __init__(self, path: str, concurrency: int = 1):
        import chdb  # noqa: imported here so --help works without chdb
        self.chdb = chdb
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        self.gate = threading.BoundedSemaphore(max(1, concurrency))
        self.sessions: dict[str, Session] = {}
        self.sessions_lock = threading.Lock()
        t0 = time.monotonic()
        # The anchor connection keeps the engine (and its background merges)
        # alive between requests.
        self.anchor = chdb.connect(self.path)
        info = str(self.anchor.query("SELECT displayName(), version(), revision(), timezone()", "TSV")).strip().split("\t")
        self.display_name, self.version, self.revision, self.timezone = info[0], info[1], int(info[2]), info[3]
        self.formats = {}
        for line in str(self.anchor.query("SELECT name FROM system.formats", "TSV")).splitlines():
            self.formats[line.strip().lower()] = line.strip()
        global _VERSION_SUFFIX
        _VERSION_SUFFIX = f"(version {self.version} (chdb {getattr(chdb, '__version__', '?')}))"
        # Double-check the error codes used for our own errors.
        names = ",".join(_sql_string(n) for n in _OWN_CODES)
        for line in str(self.anchor.query(
                f"SELECT number, errorCodeToName(number) FROM numbers(2000) WHERE errorCodeToName(number) IN ({names})",
                "TSV")).splitlines():
            code, name = line.split("\t")
            _OWN_CODES[name] = int(code)
        self.startup_seconds = time.monotonic() - t0

    def close(self):
        with self.sessions_lock:
            for s in self.sessions.values():
                try:
                    s.conn.close()
                except Exception:
                    pass
            self.sessions.clear()
        try:
            self.anchor.close()
        except Exception:
            pass

    def reap_sessions(self):
        now = time.monotonic()
        with self.sessions_lock:
            for sid in [k for k, s in self.sessions.items()
                        if now - s.last_used > s.timeout and not s.lock.locked()]:
                try:
                    self.sessions.pop(sid).conn.close()
                except Exception:
                    pass


class Result:
    def __init__(self):
        self.sql = ""
        self.body = b""
        self.format = None
        self.summary = {}
        self.query_id = ""


def execute(engine: Engine, method: str, params: list, headers, body: bytes, query_id: str) -> Result:
    """Run one HTTP-interface request against chDB; raises CHError."""
    p = {}
    for k, v in params:
        p[k] = v  # last wins, like applying the settings changes in order
    res = Result()
    res.query_id = query_id

    # Request body: HTTP Content-Encoding, then ClickHouse's own compression.
    body = http_decode_body(body, headers.get("Content-Encoding", ""))
    if p.get("decompress", "0") in ("1", "true"):
        verify = p.get("http_native_compression_disable_checksumming_on_decompress", "0") not in ("1", "true")
        body = native_decompress(body, verify)

    external = []
    ctype = headers.get("Content-Type", "") or ""
    has_external = ctype.startswith("multipart/form-data")
    if has_external:
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is None and name == "query":
                p["query"] = payload.decode("utf-8")
            elif name:
                external.append((name, payload))
        body = b""

    settings = []
    qparams = {}
    for k, v in p.items():
        if not k or k in _RESERVED_PARAMS:
            continue
        if has_external and (k.endswith("_format") or k.endswith("_types") or k.endswith("_structure")):
            continue
        if k.startswith("param_"):
            qparams[k[len("param_"):]] = v
            continue
        settings.append((k, v))

    query_param = p.get("query", "")
    full = (query_param.encode("utf-8") + b"\n" if query_param else b"") + body
    pr = split_request(full, engine.formats)
    res.sql = pr.query if not pr.is_insert else f"{pr.insert_stmt} FORMAT {pr.insert_format}"

    database = headers.get("X-ClickHouse-Database") or p.get("database", "")
    default_format = headers.get("X-ClickHouse-Format") or p.get("default_format", "") or "TabSeparated"
    default_format = engine.formats.get(default_format.lower(), default_format)
    session_id = p.get("session_id", "")

    # Connection: per request, or the HTTP session's one.
    session = None
    if session_id:
        engine.reap_sessions()
        with engine.sessions_lock:
            session = engine.sessions.get(session_id)
            if session is None:
                if p.get("session_check", "0") in ("1", "true"):
                    raise CHError("SESSION_NOT_FOUND", f"Session {session_id} not found")
                try:
                    timeout = int(p.get("session_timeout", "60"))
                except ValueError:
                    raise CHError("INVALID_SESSION_TIMEOUT", f"Invalid session timeout: '{p.get('session_timeout')}'")
                session = Session(engine.chdb.connect(engine.path), timeout)
                engine.sessions[session_id] = session
        if not session.lock.acquire(blocking=False):
            raise CHError("SESSION_IS_LOCKED", f"Session {session_id} is locked by a concurrent client")

    with engine.gate:
        conn = session.conn if session else engine.chdb.connect(engine.path)
        restore = []
        try:
            if session and (settings or database or method in ("GET", "HEAD")):
                restore = _snapshot(conn, [k for k, _ in settings] + (["readonly"] if method in ("GET", "HEAD") else []))
                if database:
                    restore.append(("__database__", str(conn.query("SELECT currentDatabase()", "TSV")).strip(), True))
            if method in ("GET", "HEAD"):
                ro = str(conn.query("SELECT getSetting('readonly')", "TSV")).strip()
                if ro in ("0", ""):
                    conn.query("SET readonly = 2")
            if database:
                conn.query("USE " + _sql_ident(database))
            for k, v in settings:
                if not _RE_SETTING_NAME.match(k):
                    raise CHError("UNKNOWN_SETTING", f"Unknown setting '{k}'")
                conn.query(f"SET {k} = {_sql_string(v)}")
            for name, payload in external:
                structure = p.get(name + "_structure")
                if not structure and p.get(name + "_types"):
                    structure = ", ".join(f"_{i + 1} {t.strip()}" for i, t in enumerate(p[name + "_types"].split(",")))
                if not structure:
                    raise CHError("BAD_ARGUMENTS", f"Neither structure nor types have not been provided for external table {name}")
                conn.query(f"CREATE TEMPORARY TABLE {_sql_ident(name)} ({structure}) ENGINE = Memory")
                with conn.send_insert(f"INSERT INTO {_sql_ident(name)}", p.get(name + "_format", "TabSeparated")) as ins:
                    ins.append(payload)
                    ins.finish()
            t0 = time.monotonic()
            if pr.is_insert:
                errors_before = _error_counts(conn)
                ins = conn.send_insert(pr.insert_stmt, pr.insert_format)
                try:
                    data = full[pr.data_offset:]
                    step = 8 << 20
                    for off in range(0, len(data), step):
                        ins.append(data[off:off + step])
                    r = ins.finish()
                except BaseException:
                    try:
                        ins.cancel()
                    except Exception:
                        pass
                    raise
                swallowed = _new_error(conn, errors_before)
                if swallowed is not None:
                    raise swallowed
                res.summary = {"read_rows": r.rows_written, "read_bytes": r.bytes_written,
                               "written_rows": r.rows_written, "written_bytes": r.bytes_written,
                               "total_rows_to_read": 0, "result_rows": r.rows_written,
                               "result_bytes": r.bytes_written, "elapsed_ns": int(r.elapsed * 1e9)}
            else:
                r = conn.query(pr.query, default_format, params=qparams)
                out = r.bytes() if hasattr(r, "bytes") else (r if isinstance(r, bytes) else str(r).encode())
                res.body = bytes(out)
                res.format = pr.output_format or default_format
                res.summary = {"read_rows": r.rows_read(), "read_bytes": r.bytes_read(),
                               "written_rows": r.rows_written(), "written_bytes": r.bytes_written(),
                               "total_rows_to_read": r.rows_read(), "result_rows": r.rows_read(),
                               "result_bytes": len(res.body), "elapsed_ns": int(r.elapsed() * 1e9)}
                if res.format == "Native":
                    try:
                        rev = int(p.get("client_protocol_version", "0") or 0)
                    except ValueError:
                        rev = 0
                    res.body = reframe_native(res.body, rev)
            res.summary["elapsed_ns"] = res.summary.get("elapsed_ns") or int((time.monotonic() - t0) * 1e9)
        except CHError:
            raise
        except Exception as e:
            raise chdb_error(e)
        finally:
            if session:
                try:
                    _restore(conn, restore)
                except Exception:
                    pass
                session.last_used = time.monotonic()
                session.lock.release()
                if p.get("close_session", "0") in ("1", "true"):
                    with engine.sessions_lock:
                        if engine.sessions.get(session_id) is session:
                            engine.sessions.pop(session_id)
                    conn.close()
            else:
                conn.close()
    return res


def _snapshot(conn, names):
    names = [n for n in names if _RE_SETTING_NAME.match(n)]
    if not names:
        return []
    rows = str(conn.query("SELECT name, value, changed FROM system.settings WHERE name IN ("
                          + ",".join(_sql_string(n) for n in names) + ")", "TSVRaw")).splitlines()
    return [(r.split("\t")[0], r.split("\t")[1], r.split("\t")[2] == "1") for r in rows if r]


def _restore(conn, snap):
    for name, value, changed in snap:
        if name == "__database__":
            conn.query("USE " + _sql_ident(value))
        elif name == "readonly":
            continue  # readonly cannot be lowered again; sessions via GET stay read-only like ClickHouse's
        elif changed:
            conn.query(f"SET {name} = {_sql_string(value)}")
        else:
            conn.query(f"SET {name} = DEFAULT")


# --------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chdb_http"
    engine: Engine = None  # set in main()
    verbose = False

    def log_message(self, fmt, *args):  # silence the default access log
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding", "") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    break
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status: int, body: bytes, headers: dict):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_HEAD(self):
        self._handle()

    def do_OPTIONS(self):
        self._send(204, b"", {})

    def _handle(self):
        t0 = time.monotonic()
        self._status = 200
        self._log_sql = ""
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        pdict = dict(params)
        query_for_log = pdict.get("query", "")
        status = 200
        try:
            body = self._read_body() if self.command == "POST" or self.headers.get("Content-Length") or \
                self.headers.get("Transfer-Encoding") else b""
            if not query_for_log:
                query_for_log = body[:400].decode("utf-8", "replace")
            path = url.path.rstrip("/") or "/"
            if path in ("/ping", "/replicas_status") or (path == "/" and self.command in ("GET", "HEAD")
                                                          and "query" not in pdict and not body):
                self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
                return
            self._query(params, body)
        except (BrokenPipeError, ConnectionResetError):
            status = 499
        except Exception as e:  # the handler never dies on a request
            status = 500
            try:
                self._error(CHError("STD_EXCEPTION", f"chdb_http internal error: {e!r}"), pdict)
            except Exception:
                pass
            traceback.print_exc(file=sys.stderr)
        finally:
            status = getattr(self, "_status", status)
            q = " ".join((self._log_sql or query_for_log).split())[:200]
            sys.stderr.write("%s %s %s %d %.1fms %s\n" % (
                time.strftime("%Y-%m-%dT%H:%M:%S"), self.command, url.path, status,
                (time.monotonic() - t0) * 1000, q))
            if self.verbose:
                shown = [(k, "***" if k == "password" else (v if k != "query" else v[:200])) for k, v in params]
                hdrs = {k: v for k, v in self.headers.items()
                        if k.lower().startswith("x-clickhouse") or k.lower() in (
                            "content-type", "content-encoding", "accept-encoding", "transfer-encoding",
                            "content-length", "user-agent", "authorization")}
                if "X-ClickHouse-Key" in hdrs:
                    hdrs["X-ClickHouse-Key"] = "***"
                if "Authorization" in hdrs:
                    hdrs["Authorization"] = "***"
                sys.stderr.write("    params=%s headers=%s\n" % (shown, hdrs))
            sys.stderr.flush()

    def _common_headers(self, query_id: str) -> dict:
        return {
            "X-ClickHouse-Server-Display-Name": self.engine.display_name,
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": self.engine.timezone,
            "Keep-Alive": "timeout=30",
        }

    def _query(self, params, body):
        pdict = dict(params)
        query_id = pdict.get("query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
        pdict["query_id"] = query_id
        try:
            res = execute(self.engine, self.command, params, self.headers, body, query_id)
            self._log_sql = res.sql
        except CHError as e:
            self._error(e, pdict)
            return
        out = res.body
        headers = self._common_headers(res.query_id)
        if res.format and out is not None:
            headers["X-ClickHouse-Format"] = res.format
            headers["Content-Type"] = _CONTENT_TYPES.get(res.format, "application/octet-stream"
                                                         if res.format in ("Native", "RowBinary", "Parquet", "Arrow",
                                                                           "ArrowStream", "ORC", "Avro",
                                                                           "RowBinaryWithNamesAndTypes",
                                                                           "RowBinaryWithNames", "MsgPack")
                                                         else "text/plain; charset=UTF-8")
        else:
            headers["Content-Type"] = "text/plain; charset=UTF-8"
        headers["X-ClickHouse-Summary"] = json.dumps({k: str(v) for k, v in res.summary.items()},
                                                     separators=(",", ":"))
        try:
            if pdict.get("compress", "0") in ("1", "true"):
                out = native_compress(out, pdict.get("network_compression_method", "LZ4"))
            elif out and pdict.get("enable_http_compression", "1") in ("1", "true"):
                enc = http_choose_response_encoding(self.headers.get("Accept-Encoding", ""))
                if enc:
                    out = http_encode_body(out, enc, int(pdict.get("http_zlib_compression_level", "3") or 3))
                    headers["Content-Encoding"] = enc
        except CHError as e:
            self._error(e, pdict)
            return
        self._status = 200
        self._send(200, out, headers)

    def _error(self, e: CHError, pdict: dict):
        text = (e.text() + "\n").encode("utf-8")
        headers = self._common_headers(pdict.get("query_id", ""))
        headers["X-ClickHouse-Exception-Code"] = str(e.code)
        headers["Content-Type"] = "text/plain; charset=UTF-8"
        if pdict.get("compress", "0") in ("1", "true"):
            try:
                text = native_compress(text, pdict.get("network_compression_method", "LZ4"))
            except CHError:
                pass
        self._status = e.http_status()
        self._send(self._status, text, headers)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="ClickHouse HTTP interface over chDB")
    ap.add_argument("--path", required=True, help="data directory (databases, tables, parts)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18123)
    ap.add_argument("--concurrency", type=int, default=1,
                    help="queries run at once in the engine (default 1: requests are serialized)")
    ap.add_argument("--verbose", action="store_true", help="also log each request's URL parameters and headers")
    args = ap.parse_args(argv)
    Handler.verbose = args.verbose

    t0 = time.monotonic()
    engine = Engine(args.path, args.concurrency)
    Handler.engine = engine
    httpd = Server((args.host, args.port), Handler)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    th = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    th.start()
    sys.stderr.write("chdb_http: ClickHouse %s (chdb %s) serving http://%s:%d/ data=%s engine_start=%.2fs ready=%.2fs\n" % (
        engine.version, getattr(engine.chdb, "__version__", "?"), args.host, args.port, engine.path,
        engine.startup_seconds, time.monotonic() - t0))
    sys.stderr.flush()
    while not stop.wait(0.5):
        pass
    sys.stderr.write("chdb_http: shutting down\n")
    sys.stderr.flush()
    httpd.shutdown()
    httpd.server_close()
    engine.close()
    sys.stderr.write("chdb_http: stopped\n")
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
