-- Raw events, one row per event, deduplicated on the whole sorting key (a replayed event has the
-- same site, day, type and event_id, so the copies collapse into one on merge; queries that must be
-- exact before a merge use FINAL or count distinct event_id).
CREATE TABLE IF NOT EXISTS {{table:events}} {{on_cluster}}
(
    event_id String,
    site_id LowCardinality(String),
    type LowCardinality(String),
    name String,
    timestamp DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    timestamp_clamped Bool,
    anonymous_id String,
    user_id String,
    ip Nullable(IPv6),
    user_agent String,
    url String,
    path String,
    referrer String,
    referrer_host String,
    title String,
    locale LowCardinality(String),
    screen_width UInt16,
    screen_height UInt16,
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_term String,
    utm_content String,
    properties String,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree(inserted_at)}}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, toDate(timestamp), type, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY;

{{distributed:events:cityHash64(site_id, anonymous_id)}};
