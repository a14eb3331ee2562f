-- Goal completions: one row per goal and the event (page view, custom event), chat (c:<id>) or order
-- (o:<id>) that completed it; value in the reporting currency. node is the completing visitor's graph
-- node, mapped to a person through identities at read time, so a chat that arrives or a link that is
-- made later still makes a completion chat-assisted. Order completions are rewritten (version) when the
-- order is recomputed; read with FINAL. The minmax index skips granules outside a report's range.
CREATE TABLE IF NOT EXISTS {{table:goal_completions}} {{on_cluster}}
(
    site_id LowCardinality(String),
    goal_id String,
    key String,
    timestamp DateTime64(3, 'UTC'),
    node String,
    anonymous_id String,
    value Decimal(18, 4),
    version UInt64,
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX timestamp_range timestamp TYPE minmax GRANULARITY 1
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
ORDER BY (site_id, goal_id, key)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY;

{{distributed:goal_completions:cityHash64(site_id, goal_id, key)}};
