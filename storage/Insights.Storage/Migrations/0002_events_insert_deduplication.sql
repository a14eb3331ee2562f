-- Insert-level deduplication for the events table. The processors send every batch with an
-- insert_deduplication_token derived from its Kafka offset ranges; within the window of the last
-- N inserts, a second insert with the same token (a retry whose first attempt did commit, or the
-- same batch replayed after a crash) is acknowledged and dropped. Replicated tables deduplicate
-- with replicated_deduplication_window (on by default); this turns it on for single-node tables,
-- where it is off by default. Rows that slip past the window still collapse on merge
-- (ReplacingMergeTree), and queries that must be exact before a merge use FINAL.
ALTER TABLE {{table:events}} {{on_cluster}} MODIFY SETTING non_replicated_deduplication_window = 1000;
