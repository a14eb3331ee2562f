-- Chats and orders as attribution last folded them from their events, one row per chat or order once
-- merged. version = the number of facts of the person's component the row was computed from (only
-- grows), so read with FINAL. Not partitioned: a chat's start or an order's placement time can move
-- when an earlier event arrives late, and every version of a row must sit in one partition for FINAL.
CREATE TABLE IF NOT EXISTS {{table:chats}} {{on_cluster}}
(
    site_id LowCardinality(String),
    chat_id String,
    person_id String,
    anonymous_id String,
    user_id String,
    email_hash String,
    agent_id String,
    channel LowCardinality(String),
    source LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    ended_at Nullable(DateTime64(3, 'UTC')),
    last_event_at DateTime64(3, 'UTC'),
    messages UInt32,
    visitor_messages UInt32,
    agent_messages UInt32,
    rating Nullable(Int32),
    events UInt32,
    version UInt64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
ORDER BY (site_id, chat_id)
TTL toDateTime(started_at) + INTERVAL {{retention_days}} DAY;

{{distributed:chats:cityHash64(site_id, chat_id)}};

-- amount: the order total in its currency; refunded, net (0 once cancelled) likewise; *_reporting: the
-- same in the site's reporting currency at the site's configured rate, NULL when it has no rate.
CREATE TABLE IF NOT EXISTS {{table:orders}} {{on_cluster}}
(
    site_id LowCardinality(String),
    order_id String,
    person_id String,
    anonymous_id String,
    user_id String,
    email_hash String,
    placed_at DateTime64(3, 'UTC'),
    currency LowCardinality(String),
    amount Decimal(18, 4),
    refunded Decimal(18, 4),
    cancelled Bool,
    net Decimal(18, 4),
    reporting_currency LowCardinality(String),
    amount_reporting Nullable(Decimal(18, 4)),
    net_reporting Nullable(Decimal(18, 4)),
    coupon String,
    source LowCardinality(String),
    chats_in_window UInt32,
    events UInt32,
    version UInt64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
ORDER BY (site_id, order_id)
TTL toDateTime(placed_at) + INTERVAL {{retention_days}} DAY;

{{distributed:orders:cityHash64(site_id, order_id)}};
