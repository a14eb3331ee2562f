-- Settled quarter hours of the stats report: page views, top pages and top referrers of a quarter hour,
-- computed from `events FINAL` once nothing has been written into that quarter hour for a while, and read
-- instead of the raw events from then on. Open (or recently written) quarter hours are read raw, so a
-- report is exactly what `events FINAL` says, replays and late events included.
--
-- Why not a materialized view that counts: a replayed batch is inserted again under another
-- deduplication token (its batch boundaries differ after a crash), so an insert-fed count would count it
-- twice. Sets are duplicate-insensitive (visitor_quarters); counts are not. So the counts here are
-- recomputed from FINAL, and only this table's bookkeeping is fed by inserts.
--
-- stats_quarter_state: per site and quarter hour, when page views were last written into it (touched,
-- fed by a view on every insert into events, replays included) and up to when it was last rolled up
-- (rolled, written by the processors' roll-up after it has inserted the quarter's rows). A quarter hour is
-- settled when rolled >= touched. Both are max(), so the bookkeeping itself is duplicate-insensitive.
CREATE TABLE IF NOT EXISTS {{table:stats_quarter_state}} {{on_cluster}}
(
    site_id LowCardinality(String),
    quarter DateTime('UTC'),
    touched SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    rolled SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(quarter)
ORDER BY (site_id, quarter)
TTL quarter + INTERVAL {{retention_days}} DAY;

{{distributed:stats_quarter_state:cityHash64(site_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:stats_quarter_touches}} {{on_cluster}} TO {{table:stats_quarter_state}}
AS SELECT site_id, toDateTime(toStartOfFifteenMinutes(timestamp), 'UTC') AS quarter, max(now64(3, 'UTC')) AS touched,
          toDateTime64(0, 3, 'UTC') AS rolled
FROM {{table:events}}
WHERE type = 'pageview'
GROUP BY site_id, quarter;

-- The rolled-up figures, one row per site, quarter hour, list and value:
--   dim 0: every page view of the quarter (value ''); views, and anonymous = page views without a visitor id;
--   dim 1: per path; views and the set of visitors (cityHash64 of the visitor id, as the raw report counts them);
--   dim 2: per referrer host (lower case, without "www.", not the site's own host); page views and visitors.
-- A recomputation inserts every row of the quarter again with a later version; FINAL reads the latest.
CREATE TABLE IF NOT EXISTS {{table:stats_quarters}} {{on_cluster}}
(
    site_id LowCardinality(String),
    quarter DateTime('UTC'),
    dim UInt8,
    value String,
    version DateTime64(3, 'UTC'),
    views UInt64,
    anonymous UInt64,
    visitors AggregateFunction(uniqExact, UInt64)
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
PARTITION BY toYYYYMM(quarter)
ORDER BY (site_id, quarter, dim, value)
TTL quarter + INTERVAL {{retention_days}} DAY;

{{distributed:stats_quarters:cityHash64(site_id)}};

-- Events stored before this migration: their quarter hours are touched, so the roll-up picks them up.
INSERT INTO {{table:stats_quarter_state}} (site_id, quarter, touched, rolled)
SELECT site_id, toDateTime(toStartOfFifteenMinutes(timestamp), 'UTC') AS quarter, max(inserted_at), toDateTime64(0, 3, 'UTC')
FROM {{table:events}}
WHERE type = 'pageview'
GROUP BY site_id, quarter;
