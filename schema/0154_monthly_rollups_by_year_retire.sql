-- One fact, one table: message_app_months and client_type_months (schema 0153) hold the monthly
-- rollups, partitioned by month, with every row of the tables partitioned by year that they replace.
-- A file of its own, after the copy's, so that re-running either one interrupted half-way is safe.
DROP VIEW IF EXISTS message_monthly_apps_mv;

DROP TABLE IF EXISTS message_monthly_apps;

DROP VIEW IF EXISTS client_type_monthly_logins_mv;

DROP VIEW IF EXISTS client_type_monthly_messages_mv;

DROP TABLE IF EXISTS client_type_monthly;
