-- name: message_totals
-- summary: Totals of a time range: messages sent, distinct senders, and the QChat servers and channels and the groups they were sent in.
-- param: from DateTime64(3, 'UTC')  start of the range, inclusive (UTC; 2022-03-08 12:58:00, RFC 3339 or Unix ms)
-- param: to DateTime64(3, 'UTC')  end of the range, exclusive
-- param: source String  only this platform (netease_qchat, ilink, maxim); empty for all
-- param: app String  only this application; empty for all
-- param: server_id String  only this QChat server; empty for all
-- param: channel_id String  only this QChat channel; empty for all
-- column: messages UInt64  messages sent in the range, each once
-- column: senders UInt64  distinct senders (an account is one per application)
-- column: servers UInt64  distinct QChat servers with messages
-- column: channels UInt64  distinct QChat channels with messages
-- column: groups UInt64  distinct iLink/Maxim groups (and iLink topics) with messages
SELECT
    count() AS messages,
    uniqExactIf((source, app, sender), sender != '') AS senders,
    uniqExactIf((app, server_id), server_id != '') AS servers,
    uniqExactIf((app, server_id, channel_id), channel_id != '') AS channels,
    uniqExactIf((source, app, group_id), group_id != '') AS `groups`
FROM messages_as_sent
WHERE msg_time >= {from:DateTime64(3, 'UTC')}
      AND msg_time < {to:DateTime64(3, 'UTC')}
      AND ({source:String} = '' OR source = {source:String})
      AND ({app:String} = '' OR app = {app:String})
      AND ({server_id:String} = '' OR server_id = {server_id:String})
      AND ({channel_id:String} = '' OR channel_id = {channel_id:String})
