-- Subject requests (a person's data exported or erased, GDPR articles 15 and 17) as the query API carried them out:
-- proof for an operator that a request was done, when, with which of the site's server keys, and what it covered.
-- The subject is never stored: subject_hash is the SHA-256 (hex) of the graph node it was asked by (a:<anonymous id>,
-- u:<user id>, e:<e-mail hash>), so the operator can look a request up by hashing the same node, and the table holds
-- nothing an erasure would have to remove. key_hash: the first 16 hex digits of the SHA-256 of the server key used.
-- tables / rows: the rows each table held for the subject (erase: deleted; export: exported), in the same order.
-- Numbered 0020 to leave 0016-0019 to the processors' tables. No TTL: the proof must outlive the data.
CREATE TABLE IF NOT EXISTS {{table:subject_requests}} {{on_cluster}}
(
    request_id UUID,
    requested_at DateTime64(3, 'UTC'),
    site_id LowCardinality(String),
    action LowCardinality(String),
    subject_kind LowCardinality(String),
    subject_hash String,
    key_hash String,
    ids_covered UInt32,
    weak_links_not_followed UInt32,
    tables Array(String),
    rows Array(UInt64),
    inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine:MergeTree}}
PARTITION BY toYYYYMM(requested_at)
ORDER BY (site_id, requested_at, request_id);

{{distributed:subject_requests:cityHash64(site_id)}};
