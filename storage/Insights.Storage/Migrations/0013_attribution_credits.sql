-- Every chat's credit for every order under every model: one row per (order, model, chat), zero
-- credits included (a chat that lost "last chat" to a later one is rewritten with zero). Replays and
-- recomputations rewrite the same keys; version (facts seen, only grows) decides, so read with FINAL.
-- amount splits the order's net amount in its currency, amount_reporting the same in the reporting
-- currency (NULL without a rate); both add up exactly per (order, model) except for chat_assisted,
-- which gives every chat the whole order. confidence = low when the chat reaches the order only
-- through a same-IP-and-user-agent link.
CREATE TABLE IF NOT EXISTS {{table:attribution_credits}} {{on_cluster}}
(
    site_id LowCardinality(String),
    order_id String,
    model LowCardinality(String),
    chat_id String,
    share Float64,
    amount Decimal(18, 4),
    currency LowCardinality(String),
    amount_reporting Nullable(Decimal(18, 4)),
    reporting_currency LowCardinality(String),
    order_placed_at DateTime64(3, 'UTC'),
    chat_started_at DateTime64(3, 'UTC'),
    agent_id String,
    channel LowCardinality(String),
    person_id String,
    confidence LowCardinality(String),
    version UInt64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
ORDER BY (site_id, order_id, model, chat_id)
TTL toDateTime(order_placed_at) + INTERVAL {{retention_days}} DAY;

{{distributed:attribution_credits:cityHash64(site_id, order_id)}};
