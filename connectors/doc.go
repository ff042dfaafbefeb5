// Package connectors holds what the platform connectors share: calling a platform's HTTP API with
// per-request timeouts and retries with backoff (Policy), keeping secrets out of every output (Secret,
// Redactor), and recording directory snapshots in ClickHouse so that an auditor can ask who was in a
// group at a given time (Store).
//
// # Snapshots, runs and items
//
// A sync is a run (table sync_runs: running, then complete or failed). A run takes snapshots of
// items: a group's member list, an account's roster, a batch of online states (table sync_items). An
// item is recorded complete only after every page of it has been written and acknowledged by
// ClickHouse; the dimension rows (group_snapshots, group_member_snapshots, roster_snapshots,
// user_state_snapshots) carry the run id, the snapshot id and the sync time. The named queries in
// queries/ (group_members_at, account_groups_at, roster_at, …) use only complete items of complete
// runs, so a sync that fails or is killed part-way never shows as a snapshot, and a page written
// twice (a retry, a resumed run) folds into one row (ReplacingMergeTree keyed by the snapshot).
//
// A run that did not complete can be resumed (Store.Begin with resume): its complete items are kept
// and skipped, a partial item continues from its saved cursor under the same snapshot id.
package connectors
