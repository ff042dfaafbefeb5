-- The skeleton's messages table (0001) becomes messages_v1: the messages model moves to messages_data
-- (storage) and the messages view (what analysts read, each message once, current version). One
-- statement, so an interrupted run cannot leave it half done; IF EXISTS makes a re-run a no-op.
-- 0003 copies every v1 row into messages_data; messages_v1 is kept until an operator drops it.
RENAME TABLE IF EXISTS messages TO messages_v1;
