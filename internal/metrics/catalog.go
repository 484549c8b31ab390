package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-backup/cairn/internal/backup"
)

// The gauges read at each scrape.
var (
	descRunning = prometheus.NewDesc("cairn_jobs_running",
		"Jobs running now (RUNNING or ABORTING) in the catalog, by type.", []string{labelType}, nil)
	descWaiting = prometheus.NewDesc("cairn_jobs_waiting",
		"Jobs waiting to run (CREATED or PENDING) in the catalog, by type.", []string{labelType}, nil)
	descLastSuccess = prometheus.NewDesc("cairn_last_successful_backup_timestamp_seconds",
		"When the latest COMPLETED backup job of a resource completed (Unix seconds), for every resource that has one.",
		[]string{labelResourceARN}, nil)
	descPoints = prometheus.NewDesc("cairn_recovery_points",
		"Recovery points in the catalog, by vault, storage class (WARM, COLD) and status.",
		[]string{labelVault, labelStorageClass, labelStatus}, nil)
	descPointBytes = prometheus.NewDesc("cairn_recovery_point_bytes",
		"Stored size (BackupSizeInBytes) of the recovery points, by vault, storage class and status.",
		[]string{labelVault, labelStorageClass, labelStatus}, nil)
	descLag = prometheus.NewDesc("cairn_scheduler_lag_seconds",
		"Now minus the due time of the oldest plan rule occurrence not yet turned into jobs; 0 when none is due.", nil, nil)
	descCompliance = prometheus.NewDesc("cairn_compliance_resources",
		"Tables by governance verdict of the last governance pass (only while governance is on).", []string{labelVerdict}, nil)
	descCatalogUp = prometheus.NewDesc("cairn_catalog_up",
		"1 if every catalog read of this scrape succeeded, else 0 (the metrics of failed reads are left out).", nil, nil)
)

// verdicts are the values of the verdict label, all present while
// governance is on.
var verdicts = []backup.Verdict{backup.VerdictCompliant, backup.VerdictNonCompliant, backup.VerdictOptedOut,
	backup.VerdictUnknown, backup.VerdictNotApplicable}

// catalogCollector reads the gauges that describe the catalog at each
// scrape.
type catalogCollector struct{ cfg Config }

func (c *catalogCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRunning, descWaiting, descLastSuccess, descPoints, descPointBytes, descLag,
		descCompliance, descCatalogUp} {
		ch <- d
	}
}

func (c *catalogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ScrapeTimeout)
	defer cancel()
	up := 1.0
	failed := func(what string, err error) {
		up = 0
		c.cfg.Logger.Error("metrics: catalog read failed; its metrics are left out of this scrape", "read", what, "err", err)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	if counts, err := c.cfg.Store.CountActiveJobs(ctx); err != nil {
		failed("active jobs", err)
	} else {
		running, waiting := map[backup.JobKind]int64{}, map[backup.JobKind]int64{}
		for _, n := range counts {
			switch n.State {
			case "RUNNING", "ABORTING":
				running[n.Kind] += n.Count
			default:
				waiting[n.Kind] += n.Count
			}
		}
		for _, jt := range jobTypes {
			gauge(descRunning, float64(running[jt.kind]), typeLabel(jt.kind))
			gauge(descWaiting, float64(waiting[jt.kind]), typeLabel(jt.kind))
		}
	}
	if last, err := c.cfg.Store.LastBackups(ctx); err != nil {
		failed("last backups", err)
	} else {
		for _, b := range last {
			gauge(descLastSuccess, unixSeconds(b.Completed), b.ResourceARN)
		}
	}
	if usage, err := c.cfg.Store.PointUsage(ctx); err != nil {
		failed("recovery point usage", err)
	} else {
		for _, u := range usage {
			gauge(descPoints, float64(u.Points), u.VaultName, string(u.StorageClass), string(u.Status))
			gauge(descPointBytes, float64(u.Bytes), u.VaultName, string(u.StorageClass), string(u.Status))
		}
	}
	if c.cfg.SchedulerLag != nil {
		if lag, err := c.cfg.SchedulerLag(ctx); err != nil {
			failed("scheduler lag", err)
		} else {
			gauge(descLag, lag.Seconds())
		}
	}
	if c.cfg.Compliance != nil {
		if rep, err := c.cfg.Compliance.Compliance(ctx, ""); err != nil {
			failed("compliance", err)
		} else if rep.Enabled {
			n := map[backup.Verdict]int{}
			for _, r := range rep.Resources {
				n[r.Verdict]++
			}
			for _, v := range verdicts {
				gauge(descCompliance, float64(n[v]), string(v))
			}
		}
	}
	gauge(descCatalogUp, up)
}

// unixSeconds is t as Unix seconds with its fraction.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
