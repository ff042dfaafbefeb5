// Package ingest receives the IM platforms' HTTP callbacks, verifies them, keeps the bytes exactly as
// received on the raw topic, normalizes them into canonical events (package normalize) on the events
// topic, and answers the platform only once the records are durable: acknowledged by Kafka (acks=all,
// idempotent producer) or, when Kafka is slow or down, fsynced to the local spool (package
// ingest/spool), which Forward drains to Kafka in order. The answer is due AckTimeout after arrival
// whatever the Kafka client is doing: the handler waits on its own timer, never on franz-go (which
// cannot fail an idempotent producer's records once they are on the wire); a produce that outlives
// the deadline finishes in the background, and when it succeeds, its spooled copy is not sent again.
//
// # Endpoints and answers
//
//	POST /v1/netease/{appkey}           NetEase Yunxin QChat copy events (manual 002, eventTypes 47–82)
//	GET  /v1/ilink/{appkey}/{secret}    ET-iLink URL verification (manual 000 §3.1)
//	POST /v1/ilink/{appkey}/{secret}    ET-iLink pushes (manual 000 §4)
//	POST /v1/maxim/{app_id}             Maxim (美信拓扑 / Lanying) message subscription
//
// Success is NetEase 200 with an empty body, iLink {"code":0}, Maxim 200 with an empty body, and comes
// only once Kafka acknowledged the raw record and the event (or the dead letter), or the spool has
// them. Refusals produce
// nothing: 401 for a bad or missing signature, CheckSum, MD5, a stale CurTime, an unknown app or a
// body naming another app; 403 for a wrong or missing iLink path secret or a source address outside
// the iLink allow-list; 413 for a body over the limit; 405 for a wrong method. A failure of ours that
// the platform must retry (neither Kafka nor the spool took the callback) is 503 within AckTimeout,
// the HTTP status that asks a client to try again later. Which answers NetEase retries, and how often,
// the copy manual (002) does not say (no claim about its retries is made here). iLink's manual (000
// §2.1) retries on silence only: "五秒内收不到响应会断掉连接,并且重新发起请求,总共重试三次" (no answer
// within five seconds: it drops the connection and sends again, three times in all), so any answer in
// time ends an iLink delivery: its refusal is withheld until past those five seconds.
//
// An authentic body that cannot be normalized (not a JSON object, an unknown type, a bad Base64
// content, a field that must be a number or boolean and is not) is kept: its raw record, and a copy
// on the dead-letter topic with the reason (header imarchive.reason), and the platform gets its
// success answer — it is archived, and a retry would not help. A later normalizer can replay it from
// the raw topic.
//
// The iLink allow-list (ILinkAllowIPs) is matched against the client's address: the TCP peer, or,
// when the peer is one of TrustedProxies, the right-most X-Forwarded-For entry that is not itself a
// trusted proxy (entries further left are whatever the client wrote and are never believed). From
// any other peer X-Forwarded-* is ignored. The raw record keeps the peer (imarchive.remote_addr) and,
// through a trusted proxy, the client (imarchive.client_addr). X-Forwarded-Proto and -Host are not
// used: nothing here builds URLs.
//
// # Limits
//
// Memory is bounded whatever arrives: a body is read up to MaxBodyBytes (413 beyond); at most
// MaxInFlight callbacks are handled at once (503 with Retry-After beyond, before the body is read);
// the dedupe and replay caches hold at most DedupeSize keys each; the rate limiter keeps one bucket
// per configured app. An app over RateLimit callbacks a second (after a burst of RateBurst) gets 429
// with Retry-After and nothing is produced; the limit applies after verification, so forged requests
// do not spend an app's budget. serve's HTTP server bounds slow clients (read-header and read
// timeouts) and header size.
//
// # Secrets, rotation and replays
//
// Each app has a current secret and, during a rotation, a previous one (an app listed twice in its
// variable: ParseAppsRotation); a callback verified with either is accepted, every candidate is
// compared in constant time, and one verified with the previous secret is counted in
// imarchive_ingest_previous_secret_total. Secrets are never logged or produced: the iLink path
// secret and the Maxim signature are redacted on the raw topic, errors name apps, not secrets.
//
// A NetEase request replayed byte for byte — the same CheckSum — is answered as delivered and
// produces nothing when its signature was delivered within twice the freshness window; outside the
// window its CurTime is stale (401). The signature is remembered only once Kafka acknowledged the
// delivery, so a resend of a request that failed gets through. Maxim signatures are static and iLink
// pushes carry none: a replay of those is a duplicate, folded by the dedupe window and, past it, by
// event_id in ClickHouse.
//
// # Deduplication
//
// The key of a delivery is its event_id (package event documents the rule per type); for a body that
// cannot be normalized, the hash of its bytes. A delivery whose key was acknowledged within the dedupe
// window (default 10 min, at most DedupeSize keys, oldest forgotten first) is answered with success and
// produces nothing; a retry arriving while the first delivery is still being produced waits for it
// (and takes over if it fails); a first delivery that failed (503) is not remembered, so its retry
// gets through. Duplicates are counted in imarchive_ingest_duplicates_total. The memory is per
// process: replicas do not share it, and ClickHouse folds what still repeats by event_id.
//
// The raw and event records of one delivery are produced together but not atomically: when one is
// acknowledged and the other not, the delivery is spooled (or, without a spool, answered 503 and
// retried), and the raw topic can hold it twice. Each raw record carries the receipt id of its HTTP
// request (imarchive.receipt_id): a copy sent again by the spool keeps it, a platform retry gets a new
// one. The events topic's repeats fold downstream by event_id.
//
// # Readings of the manuals
//
// Where a manual contradicts itself or is silent, the receiver accepts what the platform really
// sends; these are the readings taken, and why.
//
//   - iLink handshake signature. §3.1's prose sorts token, timestamp and echostr lexicographically
//     before concatenating and hashing (MD5); its Java and PHP samples hash token+timestamp+echostr
//     unsorted. Platforms ship what their samples do, and a manual's prose is often copied from
//     WeChat's; we cannot tell which one the platform runs, so both are accepted (each is an MD5 over
//     the same three secret-bearing values, so accepting both does not weaken the check). Hex is
//     compared case-insensitively in constant time. A match is answered with echostr verbatim
//     (text/plain); anything else with an empty body (401).
//   - NetEase AppKey header: sent "in some setups"; where present it must equal the path's appkey.
//   - NetEase CheckSum. The copy manual shows the three headers but not how CheckSum is made: its
//     example says only "CurTime: … //当前UTC时间戳 … 毫秒数(String)" and "MD5: … //根据请求中的request
//     body计算出来的MD5值". We take NetEase's server-API rule, SHA1(AppSecret + MD5 + CurTime) in hex,
//     over the MD5 header exactly as sent: a platform sending upper-case hex signs upper-case hex. A
//     CheckSum over the lower-cased MD5 is accepted as well (it needs the secret just the same). The MD5
//     header must equal the body's MD5 in either case; every comparison is of the whole value, in
//     constant time.
//   - CurTime freshness: the manual gives CurTime (ms, UTC) but no window. The ±5 min window is ours
//     (Config.Freshness, --freshness / IMARCHIVE_FRESHNESS): it bounds how long a captured request can be
//     replayed, and must cover the clock skew between NetEase and us plus the platform's resend delay.
//   - Maxim: the signature header is compared as plain text in
//     constant time; its value is redacted on the raw topic ([redacted]), as is the iLink path secret.
//
// The readings of the payloads (fields, times, lists, identities) are package normalize's.
package ingest
