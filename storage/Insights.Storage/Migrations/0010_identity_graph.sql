-- The identity graph of attribution (processors/Insights.Attribution). Nodes are ids with a kind prefix:
-- a:<anonymous id>, u:<user id>, e:<e-mail hash>, c:<chat id>, o:<order id>.
--
-- identity_links: every link ever stated, stored from both ends (a lookup by either end is a primary-key
-- range). Links are only ever added; a link stated both weakly (same IP + user agent) and strongly keeps
-- the strong copy (version = strength). Replays write the same rows, which collapse on merge; readers
-- take max(strength) per pair, so unmerged copies never matter.
CREATE TABLE IF NOT EXISTS {{table:identity_links}} {{on_cluster}}
(
    site_id LowCardinality(String),
    id String,
    linked_id String,
    strength UInt8,
    reason LowCardinality(String),
    event_id String,
    linked_at DateTime64(3, 'UTC'),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree(strength)}}
ORDER BY (site_id, id, linked_id);

{{distributed:identity_links:cityHash64(site_id, id)}};

-- identities: each node's person as last computed (person_id = the smallest identity node of its
-- component over all links the site allows; strong_person_id = the same over stated links only).
-- version = the number of facts the computation saw; it only grows as facts are added, so FINAL keeps
-- the most informed row whichever was written last. Reports map visitors, chats and orders to persons
-- with it.
CREATE TABLE IF NOT EXISTS {{table:identities}} {{on_cluster}}
(
    site_id LowCardinality(String),
    id String,
    person_id String,
    strong_person_id String,
    members UInt32,
    version UInt64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
ORDER BY (site_id, id);

{{distributed:identities:cityHash64(site_id, id)}};
