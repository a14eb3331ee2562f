-- What the processors learned about each event: whether it is a visitor's at all (bot_reason), where it came
-- from (geo), on what (device), from which network and company, and the session it belongs to.
--
-- Bot and datacenter traffic stays in the table, flagged by bot_reason ('' = a visitor): nothing is lost (an order
-- posted by a shop's cloud server is still an order, and a wrongly flagged event can be recounted), and every
-- visitor report filters on bot_reason = ''.
--
-- company_* is filled only when the network is a business (network_kind = 'business'): consumer ISPs, mobile
-- carriers, hosters, CDNs and anonymizers are never stored as a company. company_id is the processors' stable id
-- for the company (a slug of the name plus a hash), the id the query API shows and accepts.
--
-- On a cluster the shard-local tables and the Distributed table each need the columns; on a single node both
-- statements name the same table and the second one changes nothing (IF NOT EXISTS).
ALTER TABLE {{table:events}} {{on_cluster}}
    ADD COLUMN IF NOT EXISTS bot_reason LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS bot_name String DEFAULT '',
    ADD COLUMN IF NOT EXISTS session_id String DEFAULT '',
    ADD COLUMN IF NOT EXISTS country LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS region String DEFAULT '',
    ADD COLUMN IF NOT EXISTS city String DEFAULT '',
    ADD COLUMN IF NOT EXISTS browser LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS browser_version LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS os LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS os_version LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS device_type LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS network_kind LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS asn UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS company_id String DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_name String DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_domain String DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_source LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_confidence Float32 DEFAULT 0;

ALTER TABLE events {{on_cluster}}
    ADD COLUMN IF NOT EXISTS bot_reason LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS bot_name String DEFAULT '',
    ADD COLUMN IF NOT EXISTS session_id String DEFAULT '',
    ADD COLUMN IF NOT EXISTS country LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS region String DEFAULT '',
    ADD COLUMN IF NOT EXISTS city String DEFAULT '',
    ADD COLUMN IF NOT EXISTS browser LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS browser_version LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS os LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS os_version LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS device_type LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS network_kind LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS asn UInt32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS company_id String DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_name String DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_domain String DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_source LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS company_confidence Float32 DEFAULT 0;

-- A visitor's timeline and a company's page list read a few granules of a site's events instead of all of them.
-- Parts written before this migration have no index and are read in full until merged.
ALTER TABLE {{table:events}} {{on_cluster}} ADD INDEX IF NOT EXISTS events_anonymous_id anonymous_id TYPE bloom_filter(0.01) GRANULARITY 4;

ALTER TABLE {{table:events}} {{on_cluster}} ADD INDEX IF NOT EXISTS events_company_id company_id TYPE bloom_filter(0.01) GRANULARITY 4;
