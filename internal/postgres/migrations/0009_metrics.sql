-- The aggregates the Prometheus metrics read at each scrape
-- (backup.MetricsStore, metrics.go), as
-- internal/sqlite/migrations/0009_metrics.sql.

-- LastBackups: the latest completion of each resource's COMPLETED backup
-- jobs, one seek per resource. completion_ns is DESC NULLS LAST, the order
-- LastBackups reads (SQLite's, where NULL is the smallest value).
CREATE INDEX backup_jobs_last_completed ON backup_jobs (resource_arn, completion_ns DESC NULLS LAST)
	WHERE state = 'COMPLETED';

-- PointUsage: the count and size of the points by storage class, vault and
-- status, read from this index alone (an index-only scan). storage_class
-- comes first so that lookups by vault keep using recovery_points_by_vault.
CREATE INDEX recovery_points_usage ON recovery_points (storage_class, vault_name, status, backup_size_bytes);
