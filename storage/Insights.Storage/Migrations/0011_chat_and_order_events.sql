-- The facts attribution folds chats and orders from: chat events (no message text: attribution needs
-- who, when, which agent and channel) and order events (placed, refunded, cancelled), one row per
-- event, deduplicated on the event id within its chat or order. A replayed event is the same row.
CREATE TABLE IF NOT EXISTS {{table:chat_events}} {{on_cluster}}
(
    site_id LowCardinality(String),
    chat_id String,
    event_id String,
    type LowCardinality(String),
    timestamp DateTime64(3, 'UTC'),
    anonymous_id String,
    user_id String,
    email_hash String,
    agent_id String,
    channel LowCardinality(String),
    source LowCardinality(String),
    message_author LowCardinality(String),
    rating Nullable(Int32),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree}}
ORDER BY (site_id, chat_id, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY;

{{distributed:chat_events:cityHash64(site_id, chat_id)}};

-- Money is Decimal(18,4) in the event's own currency (ISO 4217; empty = the site's reporting currency).
CREATE TABLE IF NOT EXISTS {{table:order_events}} {{on_cluster}}
(
    site_id LowCardinality(String),
    order_id String,
    event_id String,
    type LowCardinality(String),
    timestamp DateTime64(3, 'UTC'),
    anonymous_id String,
    user_id String,
    email_hash String,
    amount Decimal(18, 4),
    currency LowCardinality(String),
    coupon String,
    source LowCardinality(String),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree}}
ORDER BY (site_id, order_id, event_id)
TTL toDateTime(timestamp) + INTERVAL {{retention_days}} DAY;

{{distributed:order_events:cityHash64(site_id, order_id)}};
