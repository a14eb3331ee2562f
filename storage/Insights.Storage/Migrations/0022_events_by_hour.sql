-- Events sorted by hour within a site and type: (site_id, type, toStartOfHour(timestamp), event_id) instead of
-- (site_id, toDate(timestamp), type, event_id). With the day first, nothing narrowed a time range within a day: the
-- stats report's open quarter hours, "today", the last hour, read (and FINAL merged) every event of the site's day.
-- ClickHouse derives a range on toStartOfHour(timestamp) from a range on timestamp (a range on the day, before type,
-- did not let it use anything after type), so a query over the last 20 minutes reads that hour's granules.
--
-- Copies of an event (replays, a re-enrichment) still collapse: they carry the same timestamp, so the same hour. A
-- client's retry does too when the client sets the time (t.js does); a server that leaves the time to ingest gets the
-- time of each attempt, and two attempts on either side of an hour are two rows (before: on either side of midnight).
--
-- ClickHouse cannot change a sorting key's middle, so the table is rebuilt: a new table with the new key, swapped in
-- under the name `events` (materialized views follow the name), then the old rows copied in and the old table dropped.
-- The swap and the copy are guarded by what the schema says, so a start-up interrupted anywhere in this migration
-- runs it again and goes on from where it stopped. While the rows are copied, reports show what has been copied so
-- far. The copy feeds the views on `events` again: visitor_quarters takes each visitor twice (a set: harmless), and
-- every quarter hour is touched, so the processors' roll-up recomputes the stats roll-up from the copied rows.
-- Stop every processor of the old version before starting the new one: a write still in flight into the old table
-- when it is dropped would be lost. (On a cluster the new table keeps the replication path of its first name,
-- events_by_hour_local, so a later rebuild must use another name.)
/* only if: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events}}' AND sorting_key NOT LIKE '%toStartOfHour%' */
CREATE TABLE IF NOT EXISTS {{table:events_by_hour}} {{on_cluster}} AS {{table:events}}
ENGINE = {{engine:ReplacingMergeTree(inserted_at)}}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, type, toStartOfHour(timestamp), event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY
SETTINGS non_replicated_deduplication_window = 1000;

/* only if: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events}}' AND sorting_key NOT LIKE '%toStartOfHour%' */
EXCHANGE TABLES {{table:events}} AND {{table:events_by_hour}} {{on_cluster}};

/* only if: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events_by_hour}}' */
INSERT INTO events SELECT * FROM {{all_shards:events_by_hour}} SETTINGS insert_distributed_sync = 1;

DROP TABLE IF EXISTS {{table:events_by_hour}} {{on_cluster}} SYNC;

-- Migrators take turns (SchemaMigrator's lock). Should two ever swap at once (two waiters breaking a dead process's
-- lock together), the old table would be swapped back: then stop, and the next start-up finishes the migration.
SELECT throwIf(count() > 0, 'events is still sorted by day after migration 0022: another process swapped the tables at the same moment. Start the processors again to finish it.')
FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events}}' AND sorting_key NOT LIKE '%toStartOfHour%';
