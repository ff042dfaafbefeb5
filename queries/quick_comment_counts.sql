-- name: quick_comment_counts
-- summary: Quick comments (reactions) of a time range by the application's comment type: added, removed, on how many messages, by how many accounts.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: comment_type String  the application's own comment type (NetEase quickCommentType)
-- column: adds UInt64  comments added
-- column: removes UInt64  comments removed
-- column: net Int64  adds minus removes
-- column: messages UInt64  distinct messages commented on
-- column: actors UInt64  distinct accounts that added or removed one
SELECT
    comment_type,
    countIf(op = 'add') AS adds,
    countIf(op = 'remove') AS removes,
    toInt64(adds) - toInt64(removes) AS net,
    uniqExact(source, app, msg_id) AS messages,
    uniqExact(source, app, actor) AS actors
FROM quick_comments
WHERE occurred_at >= {from:DateTime64(3, 'UTC')}
      AND occurred_at < {to:DateTime64(3, 'UTC')}
  AND ({source:String} = '' OR source = {source:String})
  AND ({app:String} = '' OR app = {app:String})
  AND ({server_id:String} = '' OR server_id = {server_id:String})
  AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
GROUP BY comment_type
ORDER BY adds DESC, comment_type
