// Package scale measures the analysts' side of imarchive at scale: it writes a realistic archive of N
// messages straight into the storage tables of a fresh database, in SQL (sql/*.sql: the engine
// generates the rows, so ten million take minutes, not the hours the whole pipeline would), then times
// every named query of ../../queries and every ClickHouse panel and variable of the dashboards over a
// day, a week and the whole 90 days, and prints one table with the growth from the smallest scale.
//
// The archive: 90 days; 60 % NetEase QChat messages in 5,000 channels of 300 servers, 25 % iLink,
// 15 % Maxim; 100,000 accounts, a few of them very busy; bodies of Chinese words; 2 % of the messages
// delivered twice (a re-delivery or a platform retry past ingest's window, at other offsets); edits,
// recalls and deletes of 3 %; presence copies a fifth of the archive (1 % of them stale); community
// events, notifications and quick comments; one raw receipt per delivery and its hash-chain row. The
// materialized views of the schema run on these inserts as on the consumer's. Generation is
// deterministic: every value is a hash of the row's number.
//
// Before timing, the engine's merges are let finish and every month but the newest is merged to one
// part — the state min_age_to_force_merge_seconds keeps closed partitions in — so the figures are those
// of an archive in use, not of one just loaded. Each query runs Runs times (3) and the median is
// reported, with the rows it returned. Panels run their queries/ file with the panel's constants and
// the interval Grafana would give ($__interval_s: the range over the panel's maximum data points,
// rounded as Grafana rounds it, never below the panel's minimum interval), every variable on All.
//
// It measures; it asserts nothing. `imarchive-dev bench-queries` runs it; BENCHMARKS.md holds a table.
package scale
