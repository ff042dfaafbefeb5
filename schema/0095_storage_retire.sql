-- Issue 21, step 1 of 4: the event tables get a new layout (0096: sorting keys for the questions asked,
-- the payload kept once, closed partitions merged to one part). Their current tables step aside under
-- the name of the migration that made them; 0098 copies their rows into the new ones.
--
-- Run it with consume stopped (as 0075): between this file and 0096 the tables are missing, and a
-- consumer's inserts fail and are retried (an outage: nothing is lost or dead-lettered). Every statement
-- is safe to run again: RENAME … IF EXISTS does nothing once done, and this file is recorded before 0096
-- creates tables under the old names.
--
-- The materialized views feeding the state tables read the tables by their identity, so they would
-- follow the old tables: they are dropped here and made again on the new tables (0096). The state they
-- fed (message_update_latest, presence_connection_agg) stays; the copy feeds it the same rows again,
-- which its aggregates (argMax, max, uniqExact, groupUniqArray) do not change.
DROP TABLE IF EXISTS message_update_latest_mv;
DROP TABLE IF EXISTS presence_connection_mv;
RENAME TABLE IF EXISTS messages_data TO messages_data_0003;
RENAME TABLE IF EXISTS message_updates_data TO message_updates_data_0004;
RENAME TABLE IF EXISTS notifications_data TO notifications_data_0005;
RENAME TABLE IF EXISTS presence_events_data TO presence_events_data_0006;
RENAME TABLE IF EXISTS community_events_data TO community_events_data_0007;
RENAME TABLE IF EXISTS quick_comments_data TO quick_comments_data_0008;
