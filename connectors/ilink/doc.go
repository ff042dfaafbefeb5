// Package ilink is the ET-iLink connector: the client's side of the platform's own HTTP API (manual
// 000, "ET-iLink HTTP 消息推送接收协议").
//
//   - Registration (§3): set_config with action_type 0 (register our callback URL and handshake
//     token), 1 (delete) and 2 (query). Before registering, CheckCallback does what the platform does
//     next — a GET to the callback URL with signature, timestamp and echostr — so that a serve that
//     cannot answer is found before the platform answers 1006.
//   - The API client (§5): get_access_token, cached for its lifetime (7200 s) and replaced before it
//     expires or when the platform refuses it (1008, 1015); the group list (ham_group action 3), a
//     group's members (action 6), users' online state (ham_user action 1).
//   - Subscriptions (§5.11, §5.13): the platform pushes a user's online/offline changes (msg_type 4,
//     §4.3) and a topic's messages (msg_type 4 with group_id, §4.4) only to a UID subscribed to them:
//     SubscribeUsers (ham_user, type 1 subscribe / 0 cancel) and SubscribeTopic (ham_topic action 1,
//     subject without # or +, QoS 0–2, none on a cancel); 1011 is the platform's subscription limit.
//   - Sync: one snapshot of groups, members and online states into ClickHouse (connectors.Store), so
//     auditors can ask who was in a group when (queries group_members_at, account_groups_at).
//
// Readings of the manual, where it is unclear or contradicts itself:
//   - Requests are JSON bodies POSTed to the endpoint; answers are JSON objects with an integer
//     "code" (0 success, §6 for the rest). The HTTPS endpoint (port 8183) is the default; the manual's
//     plain-HTTP port 8184 works with --api-url http://hs.kaifakuai.com:8184.
//   - set_config's action_type: the table (0 register, 1 delete, 2 query) wins over the register
//     example's "action_type": 1. ham_user's subscription: the table's "订阅用户状态(2)" is sent; the
//     example's "action_type": 7 only when the platform answers 2 with 1012 (无效的操作), and the
//     client says which one it took.
//   - The handshake signature: the table says sort token, timestamp, echostr, then MD5; the Java and
//     PHP samples hash token+timestamp+echostr unsorted. CheckCallback tries both and reports which
//     our serve accepted; MD5 is lower-case hex.
//   - Lists typed "json" (group_list, uid_list, uid_state_list) are accepted as JSON arrays or as
//     strings holding one; ids as strings or numbers. Keys of uid_state_list entries are matched with
//     surrounding white space removed: §5.10 prints the answer as [{ "uid": "414"," state":1}, …], and
//     ingest reads the §4.3 push's " time" the same way. An entry that cannot be read costs only its
//     account, reported.
//   - One bad group or account fails alone: a group whose members cannot be read is recorded skipped
//     with the error and the run goes on; a state request refused for its content (1001, 1010) is
//     split until the refused accounts stand alone. The run fails only when it cannot go on (group
//     list unreadable, every group failed, credentials, registration or token refused).
//   - create_time ("2014-12-13 13:13:13") carries no zone: it is read as China time (UTC+8).
//   - The member list (§5.9) leaves out the UID the call is made as; the connector records the list
//     as given and does not add that UID.
//   - Error codes: 1008/1015 fetch a new token and retry once; 1009, 1016, 1017 (rate limit, platform
//     outage) are retried with backoff; 1013 on a listed group is an empty snapshot with the group
//     marked gone; 1014 skips the group (no snapshot); every other code fails the call with the
//     manual's meaning.
package ilink
