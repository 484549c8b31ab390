package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	s3blob "github.com/cairn-backup/cairn/internal/blob/s3"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/cluster"
	"github.com/cairn-backup/cairn/internal/console"
	"github.com/cairn-backup/cairn/internal/datadir"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/governance"
	"github.com/cairn-backup/cairn/internal/metrics"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/notify/targets"
	"github.com/cairn-backup/cairn/internal/policy"
	"github.com/cairn-backup/cairn/internal/queue"
	"github.com/cairn-backup/cairn/internal/report"
	"github.com/cairn-backup/cairn/internal/runner"
)

// serverFlags are `cairn server`'s flags. register is the one place they
// are defined: add a flag there and read it in runServer.
type serverFlags struct {
	configPath    string
	listen        string
	metricsListen string
	dataDir       string
	catalog       string
	logLevel      string
	logFormat     string
	shutdownGrace time.Duration
	tlsCert       string
	tlsKey        string
	governance    string
	// Governance (governance.go).
	taggingInterval time.Duration
	dryRun          bool
}

func (f *serverFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.configPath, "config", os.Getenv("CAIRN_CONFIG"), "config file (YAML; see docs/configuration.md) ($CAIRN_CONFIG)")
	fs.StringVar(&f.listen, "listen", "", "address of the API (default 127.0.0.1:7171)")
	fs.StringVar(&f.metricsListen, "metrics-listen", "", "serve Prometheus metrics on this address instead of the API's /metrics (docs/monitoring.md)")
	fs.StringVar(&f.dataDir, "data-dir", "", "catalog, key pair and local vaults (default $CAIRN_DATA_DIR or ~/.local/share/cairn)")
	fs.StringVar(&f.catalog, "catalog", os.Getenv("CAIRN_CATALOG"), "the catalog: a postgres:// URL for PostgreSQL (default SQLite in the data dir) ($CAIRN_CATALOG)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "", "text (default) or json; logs go to stderr")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", 0, "how long SIGTERM lets running jobs finish before they are queued again for the next start (default 1m)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate (chain) to serve the API over HTTPS; needs --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&f.governance, "governance", "", "apply a preset of governance policies at start: superwerker (docs/governance.md)")
	fs.DurationVar(&f.taggingInterval, "tagging-interval", 0, "time between the governance worker's discovery passes (default 10s)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "governance: report what would be tagged or reset, and write nothing")
}

// newServerCmd is `cairn server`.
func newServerCmd(stderr io.Writer) *cobra.Command {
	f := &serverFlags{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the AWS Backup-compatible API, the scheduler and the job runner",
		Long: `Run the cairn server: the AWS Backup API on --listen, the job runner, the
plans' scheduler and the lifecycle worker, with the catalog, the key pair and
the Default vault in --data-dir. One server at a time may use a data dir: a
second one exits at once, naming the first one's pid.

SIGTERM or SIGINT stops it gracefully: no new job starts, running jobs get
--shutdown-grace to finish, and those still running then are queued again
for the next start; a second signal stops at once. See docs/operations.md.

DynamoDB is reached through the AWS SDK's standard configuration (AWS_REGION,
AWS_ENDPOINT_URL_DYNAMODB, profiles, the credential chain); more sources come
from the config file. Logs go to stderr.`,
		Example: `  cairn server --listen 127.0.0.1:7171 --data-dir /var/lib/cairn
  AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 cairn server --config cairn.yaml
  cairn server --listen :7171 --tls-cert cert.pem --tls-key key.pem --log-format json
  cairn server --governance superwerker   # every table tagged superwerker:backup=daily, backed up daily`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServer(cmd.Context(), f, stderr) },
	}
	f.register(cmd.Flags())
	return cmd
}

func runServer(ctx context.Context, f *serverFlags, stderr io.Writer) error {
	// The server handles its own signals: the first SIGTERM or SIGINT
	// stops it gracefully, a second one at once (see Main.Shutdown).
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	cfg, err := loadConfig(f.configPath)
	if err != nil {
		return err
	}
	for _, fl := range []struct {
		flag string
		dst  *string
	}{{f.listen, &cfg.Listen}, {f.metricsListen, &cfg.MetricsListen}, {f.dataDir, &cfg.DataDir}, {f.catalog, &cfg.Catalog}, {f.logFormat, &cfg.LogFormat}, {f.tlsCert, &cfg.TLSCert}, {f.tlsKey, &cfg.TLSKey}, {f.governance, &cfg.Governance}} {
		if fl.flag != "" {
			*fl.dst = fl.flag
		}
	}
	if f.shutdownGrace != 0 {
		cfg.ShutdownGrace = f.shutdownGrace
	}
	if f.taggingInterval != 0 {
		cfg.Tagging.Interval = f.taggingInterval
	}
	if f.dryRun {
		cfg.Tagging.DryRun = true
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return &exitError{2, fmt.Errorf("--log-level: %w", err)}
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	switch cfg.LogFormat {
	case "", "text":
	case "json":
		h = slog.NewJSONHandler(stderr, opts)
	default:
		return &exitError{2, fmt.Errorf("--log-format %q must be text or json", cfg.LogFormat)}
	}
	m := &Main{Config: cfg, Logger: slog.New(h)}
	if err := m.Open(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		m.Logger.Info("stopping: the context ended")
	case sig := <-sigs:
		m.Logger.Info("stopping: signal received; a second signal stops at once", "signal", sig.String())
	}
	stopCtx, stop := context.WithTimeout(context.Background(), m.Config.ShutdownGrace)
	defer stop()
	go func() {
		select {
		case sig := <-sigs:
			m.Logger.Warn("second signal: stopping running jobs now", "signal", sig.String())
			stop()
		case <-stopCtx.Done():
		}
	}()
	return m.Shutdown(stopCtx)
}

// Main is the running server. Tests run it in-process on 127.0.0.1:0.
type Main struct {
	Config Config
	Logger *slog.Logger
	// Clock is the jobs' and the scheduler's time source; nil means the
	// real clock. End-to-end tests set a fake one to reach a schedule.
	Clock clock.Clock

	// Addr is the address the API listens on, once Open returned.
	Addr string
	// MetricsAddr is the address of /metrics when it has its own
	// (Config.MetricsListen), once Open returned.
	MetricsAddr string
	// Metrics is the Prometheus registry the server reports to.
	Metrics *metrics.Metrics
	Keys    keyPair
	Service *runner.Service
	// Governance is the governance worker (tagging and compliance).
	Governance *governance.Worker
	// Reports runs the report plans (internal/report), behind Service.
	Reports *report.Service
	// Sender delivers the outbox's events (notify.go); its metrics are
	// served on /metrics with the others (MetricsRegisterer).
	Sender *notify.Sender
	// Console is the web console under /console/ (console.go).
	Console *console.Handler
	// Targets are the notification targets (notify_config.go).
	Targets *targets.Manager

	lock    *datadir.Lock
	catalog backup.Catalog
	// queue distributes jobs over the nodes of a PostgreSQL catalog
	// (queue.go); nil on SQLite.
	queue *queue.Queue
	// cluster is this node among those of the catalog (cluster.go):
	// backup.SingleNode on SQLite; node is the PostgreSQL one, to leave.
	cluster  backup.Cluster
	node     *cluster.Cluster
	listener net.Listener
	http     *http.Server
	done     chan error
	metrics  *serverMetrics
}

// Open checks the configuration and the API address, locks the data dir,
// recovers what a previous process left, starts the scheduler and the
// lifecycle worker, and starts serving. Nothing in the data dir is created
// or changed before the configuration is known to be good, the address is
// bound and the lock is held; a data dir another process holds is left
// alone, with an error naming that process.
func (m *Main) Open(ctx context.Context) (err error) {
	if m.Logger == nil {
		m.Logger = slog.Default()
	}
	m.Config.setDefaults()
	if err := m.Config.Validate(); err != nil {
		return err
	}
	log := m.Logger
	tlsCfg, err := m.Config.tlsConfig()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.closeAll()
		}
	}()
	// An existing data dir is locked before the address is bound, so that
	// a second server with the same config names the first one's pid
	// instead of failing on the busy port. A new one is made only once
	// the address is bound.
	if _, statErr := os.Stat(m.Config.DataDir); statErr == nil {
		if m.lock, err = datadir.Acquire(m.Config.DataDir, "cairn server"); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	m.Addr = ln.Addr().String()
	m.listener = ln
	if err := m.listenMetrics(); err != nil {
		return err
	}
	m.http = &http.Server{TLSConfig: tlsCfg,
		ReadHeaderTimeout: m.Config.ReadHeaderTimeout, ReadTimeout: m.Config.ReadTimeout,
		IdleTimeout: m.Config.IdleTimeout, MaxHeaderBytes: m.Config.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if m.lock == nil {
		if m.lock, err = datadir.Acquire(m.Config.DataDir, "cairn server"); err != nil {
			return err
		}
	}
	if err := m.checkCatalog(ctx); err != nil {
		return err
	}
	if m.Keys, err = serverKeys(m.Config.DataDir); err != nil {
		return err
	}
	sources, err := m.sources(ctx)
	if err != nil {
		return err
	}
	if m.catalog, err = m.openCatalog(ctx); err != nil {
		return err
	}
	if err := m.joinCluster(ctx); err != nil {
		return err
	}
	if m.Targets, err = m.openTargets(); err != nil {
		return err
	}
	if err := m.openMetrics(); err != nil {
		return err
	}
	if m.Sender, err = m.newSender(ctx); err != nil {
		return err
	}
	m.Reports, err = report.New(report.Config{
		Leader:  m.leader,
		Catalog: m.catalog, OpenStore: m.openStore, DataDir: m.Config.DataDir, Storage: m.Config.Storage.policy(),
		Region: m.Config.Region, AccountID: m.Config.AccountID, Clock: m.Clock, Logger: log,
		Evaluate: frameworkEvaluator(func() backup.FrameworkService { return m.Service }),
	})
	if err != nil {
		return err
	}
	dispatcher, err := m.openQueue(ctx, m.cluster.NodeID())
	if err != nil {
		return err
	}
	m.Service, err = runner.New(runner.Config{
		Queue:   dispatcher,
		Catalog: m.catalog, Sources: sources, OpenStore: m.openStore, DataDir: m.Config.DataDir,
		Storage: m.Config.Storage.policy(),
		Region:  m.Config.Region, AccountID: m.Config.AccountID, Logger: log,
		MaxJobs: m.Config.MaxJobs, RestoreWriters: m.Config.RestoreWriters, Compression: m.Config.Compression,
		CheckpointItems: m.Config.CheckpointItems, CheckpointInterval: m.Config.CheckpointInterval,
		SchedulerInterval: m.Config.SchedulerInterval, LifecycleInterval: m.Config.LifecycleInterval,
		JobHistory:          time.Duration(m.Config.JobHistoryDays) * 24 * time.Hour,
		StartupVaultTimeout: m.Config.StartupVaultTimeout,
		Clock:               m.Clock,
		Reports:             m.Reports,
		Notifier:            m.Sender,
		Observer:            m.Metrics,
		NotificationTargets: m.Targets,
		Cluster:             m.cluster,
	})
	if err != nil {
		return err
	}
	if err := m.Service.Recover(ctx); err != nil {
		return err
	}
	// Report jobs left running are a live node's while another node lives.
	if alone, _, err := m.Service.Alone(ctx); err != nil {
		return err
	} else if alone {
		if err := m.Reports.Recover(ctx); err != nil {
			return err
		}
	}
	if err := m.Service.EnsureDefaultVault(ctx); err != nil {
		return fmt.Errorf("create the Default vault: %w", err)
	}
	// The scheduler and the lifecycle worker run once what a previous
	// process left is repaired.
	if err := m.applyGovernance(ctx); err != nil {
		return err
	}
	m.Service.Start()
	if err := m.startQueue(ctx); err != nil {
		return err
	}
	if err := m.startGovernance(sources); err != nil {
		return err
	}
	var compliance backup.ComplianceService
	if m.Governance != nil {
		compliance = m.Governance
		m.metrics.compliance.w.Store(m.Governance)
	}
	m.Reports.Start()
	m.Sender.Start()
	api, err := awsapi.New(awsapi.Config{
		Compliance: compliance,
		Service:    m.Service, Region: m.Config.Region, AccountID: m.Config.AccountID, Logger: log,
		MaxUnverifiedBodies: m.Config.MaxUnverifiedBodies,
		Credentials: func(id string) (string, bool) {
			if id == m.Keys.AccessKeyID {
				return m.Keys.SecretAccessKey, true
			}
			return "", false
		},
	})
	if err != nil {
		return err
	}
	if m.http.Handler, err = m.withConsole(m.apiHandler(api), compliance); err != nil {
		return err
	}
	m.serveMetrics()
	m.done = make(chan error, 1)
	go func(ln net.Listener) {
		if tlsCfg != nil {
			m.done <- m.http.ServeTLS(ln, "", "")
			return
		}
		m.done <- m.http.Serve(ln)
	}(m.listener)
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	log.Info("cairn server started", "listen", m.Addr, "endpoint", scheme+"://"+m.Addr, "data_dir", m.Config.DataDir,
		"credentials", filepath.Join(m.Config.DataDir, credentialsFile), "version", Version, "pid", os.Getpid(),
		"shutdown_grace", m.Config.ShutdownGrace)
	return nil
}

// Shutdown stops the server gracefully: no new job starts (the scheduler
// stops, jobs waiting for a slot stay queued, API calls that would start a
// job are refused with ServiceUnavailableException while reads go on), the
// running jobs get until ctx ends to finish, and those still running then
// are stopped and left for the next start (see runner.Service.Shutdown).
// Then the API stops, the catalog is closed and the data dir unlocked.
func (m *Main) Shutdown(ctx context.Context) error {
	var errs []error
	if m.node != nil {
		// Another node leads while this one's jobs finish.
		m.node.Resign(ctx)
	}
	m.stopGovernance()
	if m.Reports != nil {
		// Report jobs are short: they get the grace period to finish.
		m.Reports.Shutdown(ctx)
	}
	if m.Service != nil {
		errs = append(errs, m.Service.Shutdown(ctx))
	}
	errs = append(errs, m.stopQueue())
	errs = append(errs, m.closeAll())
	err := errors.Join(errs...)
	if err == nil {
		m.Logger.Info("cairn server stopped")
	}
	return err
}

// Close stops the server at once: Shutdown without a grace period.
func (m *Main) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return m.Shutdown(ctx)
}

// closeAll stops serving and releases what Open took, in reverse order.
func (m *Main) closeAll() error {
	m.stopGovernance()
	var errs []error
	if m.http != nil && m.done != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.http.Shutdown(ctx))
		cancel()
		if err := <-m.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		m.done = nil
	} else if m.listener != nil {
		errs = append(errs, m.listener.Close())
	}
	m.listener = nil
	m.stopSender()
	errs = append(errs, m.closeMetrics())
	if m.Reports != nil {
		errs = append(errs, m.Reports.Close())
	}
	if m.Service != nil {
		errs = append(errs, m.Service.Close())
	}
	errs = append(errs, m.stopQueue())
	if m.node != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.node.Close(ctx))
		cancel()
		m.node = nil
	}
	if m.catalog != nil {
		errs = append(errs, m.catalog.Close())
		m.catalog = nil
	}
	if m.lock != nil {
		errs = append(errs, m.lock.Release())
		m.lock = nil
	}
	return errors.Join(errs...)
}

// sources builds the DynamoDB sources: the config file's, then "default"
// from the SDK's standard configuration.
func (m *Main) sources(ctx context.Context) ([]*runner.Source, error) {
	var out []*runner.Source
	for _, sc := range m.Config.Sources {
		opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(sc.Region)}
		if sc.Profile != "" {
			opts = append(opts, awsconfig.WithSharedConfigProfile(sc.Profile))
		}
		if sc.AccessKeyID != "" {
			opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(sc.AccessKeyID, sc.SecretAccessKey, "")))
		}
		if sc.Endpoint != "" {
			opts = append(opts, awsconfig.WithBaseEndpoint(sc.Endpoint))
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", sc.Name, err)
		}
		c, err := dynamodb.New(awsCfg, dynamodb.Options{})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", sc.Name, err)
		}
		out = append(out, &runner.Source{Name: sc.Name, Region: sc.Region, AccountID: sc.AccountID, Client: c})
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("default DynamoDB source: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = m.Config.Region
	}
	c, err := dynamodb.New(awsCfg, dynamodb.Options{})
	if err != nil {
		return nil, fmt.Errorf("default DynamoDB source: %w", err)
	}
	// The default source serves its region, any account.
	return append(out, &runner.Source{Name: "default", Region: awsCfg.Region, Client: c}), nil
}

func (m *Main) openStore(ctx context.Context, st backup.VaultStorage) (blob.Store, error) {
	switch st.Kind {
	case backup.StorageFile:
		return fileblob.New(st.Path)
	case backup.StorageS3:
		cfg, err := m.s3Config(st)
		if err != nil {
			return nil, err
		}
		s, err := s3blob.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		// A vault's bucket is created on first use, like the local directory.
		if err := s.EnsureBucket(ctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown vault storage kind %q", st.Kind)
}

// s3Config returns how to reach an S3 vault's storage: the configured
// endpoint it names, with that endpoint's credentials. The server's
// credentials go only to URLs its operator configured: a vault whose
// endpoint is no longer configured cannot be opened until it is (a vault
// on AWS S3 itself from before endpoints were configured keeps the s3
// section's credentials).
func (m *Main) s3Config(st backup.VaultStorage) (s3blob.Config, error) {
	cfg := s3blob.Config{Bucket: st.Bucket, Prefix: st.Prefix, Region: st.Region,
		AccessKey: m.Config.S3.AccessKeyID, SecretKey: m.Config.S3.SecretAccessKey}
	for _, e := range m.Config.Storage.S3Endpoints {
		if st.EndpointName != "" && e.Name != st.EndpointName ||
			st.EndpointName == "" && backup.NormalizeEndpointURL(e.URL) != backup.NormalizeEndpointURL(st.Endpoint) {
			continue
		}
		cfg.Endpoint, cfg.PathStyle = e.URL, e.pathStyle()
		if e.AccessKeyID != "" {
			cfg.AccessKey, cfg.SecretKey = e.AccessKeyID, e.SecretAccessKey
		}
		if cfg.Region == "" {
			cfg.Region = e.Region
		}
		return cfg, nil
	}
	if st.EndpointName == "" && st.Endpoint == "" {
		return cfg, nil // AWS S3, from before endpoints had names
	}
	name := st.EndpointName
	if name == "" {
		name = st.Endpoint
	}
	return cfg, fmt.Errorf("the vault's S3 endpoint %s is not configured under storage.s3_endpoints; cairn sends its S3 credentials only to configured endpoints: add it (with its credentials) to use this vault", name)
}

// tlsConfig loads the certificate and key when TLS is configured; nil
// means plain HTTP.
func (c *Config) tlsConfig() (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("config: tls_cert %s and tls_key %s: %w", c.TLSCert, c.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// applyGovernance applies the policies of the configured governance preset
// (Config.Governance): at every start, so that they are as the preset says
// (applying them unchanged changes nothing).
func (m *Main) applyGovernance(ctx context.Context) error {
	if m.Config.Governance == "" {
		return nil
	}
	ps, err := policy.Preset(m.Config.Governance, m.Config.Region)
	if err != nil {
		return fmt.Errorf("governance: %w", err)
	}
	for _, in := range ps {
		res, err := m.Service.ApplyPolicy(ctx, in)
		if err != nil {
			return fmt.Errorf("governance %s: apply policy %s: %w", m.Config.Governance, in.Name, err)
		}
		m.Logger.Info("governance policy in force", "preset", m.Config.Governance, "policy", in.Name, "action", res.Changes[0].Action)
	}
	return nil
}
