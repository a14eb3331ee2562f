-- Events sorted by their time: (site_id, type, timestamp, event_id) instead of (site_id, type, toStartOfHour(timestamp),
-- event_id). With the event id right after the hour, every part of an hour spans the whole hour, so the last few
-- minutes read the hour's granules in every part, and FINAL has to merge all of them with each other. With the time
-- before the id, a range reads the granules of its minutes, and the parts of a busy hour (one per processors' batch,
-- each a few seconds of events) barely overlap: ClickHouse merges only the overlapping ranges under FINAL and reads the
-- rest as they are. A live counter over the last minutes reads exactly those newest, least-merged parts: at 30,000
-- events/s its statement took 0.7 of its time (benchmarks/README.md, twenty-fourth round). The time itself, not the
-- hour and then the time: the order is the same, but with both ClickHouse's key analysis narrowed a range on the time
-- column alone, and read 7 of 15 granules for the last 20 minutes of 6 hours.
--
-- Copies of an event still collapse: a replay or a re-enrichment carries the event's timestamp, so the same key. A
-- client's retry does too when the client sets the time (t.js does). A server that leaves the time to ingest gets the
-- time of each attempt; the processors write a visitor's retry with the time of its first delivery (the sessions keep
-- it for the visitor's last 32 events), so those collapse too, even across an hour (before: two rows on either side of
-- an hour). A retry the processors cannot recognise (after a restart, or of an event without a visitor) stays two rows.
--
-- Rebuilt as 0022 was (read it for why): a new table with the new key swapped in under the name `events`, the old rows
-- copied in, the old table dropped, every step guarded by what the schema says, so an interrupted start-up goes on from
-- where it stopped. The temporary name is new (a cluster keeps the replication path of a table's first name). Stop
-- every processor of the old version before starting the new one.
/* only if: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events}}' AND sorting_key NOT LIKE '%, type, timestamp, event_id' */
CREATE TABLE IF NOT EXISTS {{table:events_by_time}} {{on_cluster}} AS {{table:events}}
ENGINE = {{engine:ReplacingMergeTree(inserted_at)}}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, type, timestamp, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY
SETTINGS non_replicated_deduplication_window = 1000;

/* only if: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events}}' AND sorting_key NOT LIKE '%, type, timestamp, event_id' */
EXCHANGE TABLES {{table:events}} AND {{table:events_by_time}} {{on_cluster}};

/* only if: SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events_by_time}}' */
INSERT INTO events SELECT * FROM {{all_shards:events_by_time}} SETTINGS insert_distributed_sync = 1;

DROP TABLE IF EXISTS {{table:events_by_time}} {{on_cluster}} SYNC;

-- As in 0022: two migrators swapping at once would swap the old table back; the next start-up finishes the migration.
SELECT throwIf(count() > 0, 'events is still sorted by hour only after migration 0023: another process swapped the tables at the same moment. Start the processors again to finish it.')
FROM system.tables WHERE database = currentDatabase() AND name = '{{table:events}}' AND sorting_key NOT LIKE '%, type, timestamp, event_id';
