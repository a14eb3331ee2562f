-- Visits: a visitor's events with no gap longer than 30 minutes, one row per session, written by the processor
-- that owns the visitor's Kafka partition in the same batch as the events (events first, then sessions).
--
-- Each row is the whole session as of its latest event, so the table is a ReplacingMergeTree on `version` (the
-- number of events folded in): a longer session replaces a shorter one, and a replayed batch writes rows
-- identical to the first ones (deterministic session ids, same version), which collapse. A collapsing engine
-- (+1/-1 pairs, as Plausible uses) would instead leave unmatched pairs behind whenever a replay cut its batches
-- differently. Reports read `FROM sessions FINAL`.
--
-- The sorting key holds only what never changes for a session: site, visitor, id (a late event may move
-- started_at earlier, so the start cannot be in the key). The processors look sessions up by (site, visitor) when
-- they take over a partition. The partition is the month the session was opened in (opened_at: the time of
-- the event that opened it, fixed for its life), so every version of a session lands in the same partition.
--
-- kafka_partition / last_offset / last_received_at record how far the processors had folded the visitor's
-- events into this row: after a restart, an event at or below that offset is a replay and is not counted twice.
CREATE TABLE IF NOT EXISTS {{table:sessions}} {{on_cluster}}
(
    session_id String,
    site_id LowCardinality(String),
    anonymous_id String,
    user_id String,
    opened_at DateTime64(3, 'UTC'),
    started_at DateTime64(3, 'UTC'),
    ended_at DateTime64(3, 'UTC'),
    entry_at DateTime64(3, 'UTC'),
    exit_at DateTime64(3, 'UTC'),
    duration UInt32,
    engaged_ms UInt64,
    page_views UInt32,
    events UInt32,
    interactions UInt32,
    bounce Bool,
    entry_page String,
    exit_page String,
    pages Array(String),
    landing_referrer String,
    referrer_host String,
    channel LowCardinality(String),
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_term String,
    utm_content String,
    country LowCardinality(String),
    region String,
    city String,
    browser LowCardinality(String),
    os LowCardinality(String),
    device_type LowCardinality(String),
    network_kind LowCardinality(String),
    company_id String,
    company_name String,
    company_domain String,
    kafka_partition Int32,
    last_offset Int64,
    last_received_at DateTime64(3, 'UTC'),
    version UInt64,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX sessions_started_at started_at TYPE minmax GRANULARITY 1,
    INDEX sessions_company_id company_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
PARTITION BY toYYYYMM(opened_at)
ORDER BY (site_id, anonymous_id, session_id)
TTL toDateTime(opened_at) + INTERVAL {{retention_days}} DAY
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed:sessions:cityHash64(site_id, anonymous_id)}};
