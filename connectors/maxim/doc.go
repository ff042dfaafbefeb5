// Package maxim is the Maxim (美信拓扑) connector: a client of the server REST API (manual 001,
// 服务端快速集成指南) and a directory sync into ClickHouse snapshots.
//
//   - Every request carries the app_id and access-token headers, and user_id where the API acts as a
//     user, with the manual's names as written (lower case, underscores).
//   - Answers are {"code": 200, "data": …}. A business error comes as HTTP 200 with another code in
//     the body; the manual's table (10000–40000) is mapped to *APIError with the manual's words, the
//     client SDK's error name where one matches (manual 003) and English, and sorted into categories
//     (ErrAuth, ErrGroupNotFound, ErrPermission, …). 20000 and 20006 are retried with backoff, as are
//     timeouts, dropped connections and HTTP 5xx/408/429.
//   - GET /group/member_list is paged: limit members per page (default 1000), and while more remain
//     the answer carries a cursor, passed back for the next page, until none comes back. The manual
//     shows the cursor only in words; it is read as a top-level "cursor" field beside "data" and
//     "version", string or number. A cursor answered twice is an error (ErrCursorLoop).
//   - GET /user/rosters gives an account's roster, [{user_id, name}]; bare ids are accepted too.
//   - The access-token is a console-issued credential; when the platform refuses it (10008) and it
//     came from a file, the file is read again, so a rotated token is picked up mid-sync.
//
// Sync is incremental (an item whose last complete snapshot is younger than RefreshAfter is skipped)
// and resumable (a run that failed or was killed is continued: complete items kept, a group stopped
// part-way continued from its saved cursor under the same snapshot; a saved cursor the platform no
// longer accepts starts that group again as a new snapshot). A group the platform reports gone
// (20001) gets an empty snapshot marked gone; a group the acting user may not list (20002, 2001x,
// 10010) is skipped; a user that no longer exists (10000) has an empty roster.
//
// The manual documents no call that lists an app's groups or users. The groups synced are those
// configured (--groups) and those seen in the archive (messages) or in earlier snapshots (query
// groups_seen); the accounts are those configured, the members read, and those seen (query
// accounts_seen). member_list needs a user_id (the manual says the owner's): per group with
// GROUP:USER, or --user-id for all.
package maxim
