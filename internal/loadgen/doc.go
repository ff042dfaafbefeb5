// Package loadgen sends realistic, correctly signed synthetic callbacks of all three platforms to a
// running imarchive serve: NetEase QChat messages (48) and login/logout/heartbeat (47), iLink direct,
// group and topic messages and user status (msg_type 1, 3, 4), Maxim messages (CHAT, GROUPCHAT). It
// controls the rate, duration or count, the number of accounts and channels, the mix of event kinds, the
// share of platform-style retries (the same body again, re-signed) and the share of presence events that
// arrive late with an older time (the online-state rule must ignore them).
//
// It reports what it sent and how it was answered (accepted, rejected, failed) with latency percentiles,
// and can log every accepted callback's identity (JSON lines) so a test can prove that each one reached
// ClickHouse exactly once.
package loadgen
