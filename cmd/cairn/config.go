package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/policy"
)

// Config is the server's configuration: flags override the file, the file
// overrides the defaults documented on each field.
type Config struct {
	// Listen is the API's address; default 127.0.0.1:7171.
	Listen string `yaml:"listen"`
	// MetricsListen, when set, is the address /metrics is served on
	// instead of the API's (docs/monitoring.md).
	MetricsListen string `yaml:"metrics_listen"`
	// DataDir holds the catalog, the key pair and local vaults; default
	// CAIRN_DATA_DIR or ~/.local/share/cairn.
	DataDir string `yaml:"data_dir"`
	// Catalog is where the catalog lives: empty for SQLite in
	// DATA_DIR/catalog.db (the default), or a postgres:// URL for a
	// PostgreSQL database (docs/catalog.md#postgresql); the --catalog flag
	// and CAIRN_CATALOG override it.
	Catalog string `yaml:"catalog"`
	// Cluster tunes the nodes that share a PostgreSQL catalog
	// (docs/cluster.md); it does nothing on SQLite.
	Cluster ClusterConfig `yaml:"cluster"`
	// Region and AccountID appear in cairn's own ARNs (vaults, recovery
	// points); defaults us-east-1 (or AWS_REGION) and 000000000000.
	Region    string `yaml:"region"`
	AccountID string `yaml:"account_id"`
	// MaxJobs is how many backup and restore jobs run at once; default 4.
	MaxJobs int `yaml:"max_jobs"`
	// RestoreWriters is the parallel BatchWriteItem callers per restore; default 8.
	RestoreWriters int `yaml:"restore_writers"`
	// CheckpointItems and CheckpointInterval bound a backup's work per
	// scan segment between two checkpoints (docs/architecture.md, "Resume");
	// defaults 50000 items and 30s. A resumed backup scans again at most
	// about this much per segment.
	CheckpointItems    int64         `yaml:"checkpoint_items"`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// Compression of data files: zstd (default), gzip or none; a vault's
	// cairn:compression tag and a job's BackupOptions override it.
	Compression string `yaml:"compression"`
	// SchedulerInterval is how often the scheduler looks for due plan rules
	// and for jobs whose windows closed; default 10s, at least 1s.
	SchedulerInterval time.Duration `yaml:"scheduler_interval"`
	// LifecycleInterval is how often recovery points are moved to cold
	// storage or deleted as their lifecycle says; default 1m, at least 1s.
	LifecycleInterval time.Duration `yaml:"lifecycle_interval"`
	// JobHistoryDays is how many days backup, restore and copy jobs are
	// kept after they end; 0 (the default) keeps them for ever. AWS Backup
	// keeps 30 days.
	JobHistoryDays int `yaml:"job_history_days"`
	// Sources are DynamoDB endpoints beyond the default one, which the AWS
	// SDK's standard configuration gives (AWS_REGION,
	// AWS_ENDPOINT_URL_DYNAMODB, profiles, the credential chain) and which
	// is always last.
	Sources []SourceConfig `yaml:"sources"`
	// S3 holds default credentials for S3 vault storage: for configured
	// endpoints without their own, and for vaults on AWS S3 created before
	// endpoints were configured; default the SDK's chain.
	S3 S3Config `yaml:"s3"`
	// VaultLocations name vaults kept outside the data dir, for `cairn
	// catalog rebuild` and the start-up check of the catalog to find when
	// the catalog is lost (docs/catalog.md). The server takes its vaults
	// from the catalog, not from here.
	VaultLocations []VaultLocation `yaml:"vault_locations"`
	// Storage says where vault data may live; API clients choose only
	// among what it allows.
	Storage StorageConfig `yaml:"storage"`
	// Governance names a preset of governance policies applied at every
	// start (docs/governance.md): "superwerker" applies superwerker's tag
	// and backup policies, the backup policy's regions naming Region.
	// Empty applies none.
	Governance string `yaml:"governance"`
	// Tagging is the governance worker: the tags every table must carry
	// and what is done about tables without them (docs/governance.md).
	Tagging TaggingConfig `yaml:"tagging"`
	// Notifications are cairn's own notification targets (webhooks,
	// email; notify_config.go, docs/notifications.md).
	Notifications NotificationsConfig `yaml:"notifications"`

	// Running the server (docs/operations.md). Zero values take the
	// defaults below.

	// ShutdownGrace is how long SIGTERM or SIGINT lets running jobs finish
	// before they are stopped and queued again for the next start; default
	// DefaultShutdownGrace. Keep systemd's TimeoutStopSec above it.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// StartupVaultTimeout bounds the time start-up recovery spends on one
	// vault; work on a vault it cannot reach in time is retried in the
	// background; default DefaultStartupVaultTimeout.
	StartupVaultTimeout time.Duration `yaml:"startup_vault_timeout"`
	// LogFormat is text (default) or json.
	LogFormat string `yaml:"log_format"`
	// TLSCert and TLSKey are PEM files; with both set the API is served
	// over HTTPS only.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// HTTP limits: time to read a request's headers, time to read a whole
	// request (headers and body), how long an idle keep-alive connection
	// stays open, the size of a request's headers, and how many request
	// bodies whose signature is not verified yet are read at once.
	ReadHeaderTimeout   time.Duration `yaml:"read_header_timeout"`
	ReadTimeout         time.Duration `yaml:"read_timeout"`
	IdleTimeout         time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes      int           `yaml:"max_header_bytes"`
	MaxUnverifiedBodies int           `yaml:"max_unverified_bodies"`
}

// StorageConfig is where the operator lets vaults keep their data. The
// data dir's vaults/ directory is always allowed.
type StorageConfig struct {
	// AllowedPaths are absolute directories file vaults and cold
	// directories (cairn:storage, cairn:cold-path) may be in or under.
	AllowedPaths []string `yaml:"allowed_paths"`
	// S3Endpoints are the S3 servers vaults may be kept on
	// (cairn:s3-endpoint names one).
	S3Endpoints []S3EndpointConfig `yaml:"s3_endpoints"`
}

// S3EndpointConfig is one S3 server vaults may use, with the credentials
// cairn sends to it and to nothing else.
type S3EndpointConfig struct {
	// Name is how API clients choose it (tag cairn:s3-endpoint=NAME).
	Name string `yaml:"name"`
	// URL of an S3-compatible server; empty for AWS S3.
	URL string `yaml:"url"`
	// Region of its buckets; empty lets a vault name one (cairn:s3-region),
	// else the server's region.
	Region string `yaml:"region"`
	// Static credentials; default the s3 section's, else the SDK's chain.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// PathStyle addressing; default true for a URL, false for AWS S3.
	PathStyle *bool `yaml:"path_style"`
	// Buckets, if set, are the only buckets vaults may use there.
	Buckets []string `yaml:"buckets"`
}

// policy returns the storage policy the runner enforces.
func (c StorageConfig) policy() backup.StoragePolicy {
	p := backup.StoragePolicy{}
	for _, a := range c.AllowedPaths {
		p.AllowedPaths = append(p.AllowedPaths, filepath.Clean(a))
	}
	for _, e := range c.S3Endpoints {
		p.Endpoints = append(p.Endpoints, backup.S3Endpoint{Name: e.Name, URL: backup.NormalizeEndpointURL(e.URL),
			Region: e.Region, PathStyle: e.pathStyle(), Buckets: e.Buckets})
	}
	return p
}

func (e S3EndpointConfig) pathStyle() bool {
	if e.PathStyle != nil {
		return *e.PathStyle
	}
	return e.URL != ""
}

// validate names the field at fault.
func (c StorageConfig) validate(dataDir string) error {
	for i, a := range c.AllowedPaths {
		if !filepath.IsAbs(a) {
			return fmt.Errorf("config: storage.allowed_paths[%d] %q must be an absolute directory", i, a)
		}
		if abs, err := filepath.Abs(dataDir); err == nil && dataDir != "" && backup.Within(filepath.Clean(a), abs) {
			return fmt.Errorf("config: storage.allowed_paths[%d] %q lies inside data_dir %s, where only the vaults' own default directories may be; choose a directory outside it",
				i, a, dataDir)
		}
	}
	names := map[string]bool{}
	for i, e := range c.S3Endpoints {
		field := fmt.Sprintf("storage.s3_endpoints[%d]", i)
		if !backup.ValidEndpointName(e.Name) {
			return fmt.Errorf("config: %s.name %q must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit", field, e.Name)
		}
		if names[e.Name] {
			return fmt.Errorf("config: %s.name %q is used twice", field, e.Name)
		}
		names[e.Name] = true
		if e.URL != "" {
			u, err := url.Parse(e.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
				return fmt.Errorf("config: %s.url %q must be an http(s) URL such as http://127.0.0.1:7070 (leave it out for AWS S3)", field, e.URL)
			}
		}
		if (e.AccessKeyID == "") != (e.SecretAccessKey == "") {
			return fmt.Errorf("config: %s: set both access_key_id and secret_access_key, or neither", field)
		}
		for j, b := range e.Buckets {
			if _, err := backup.ParseStorage("s3://" + b); err != nil || strings.Contains(b, "/") {
				return fmt.Errorf("config: %s.buckets[%d] %q is not a bucket name (3-63 lowercase letters, digits, '.' and '-')", field, j, b)
			}
		}
	}
	return nil
}

// Defaults of the server's operating keys.
const (
	DefaultShutdownGrace       = time.Minute
	DefaultStartupVaultTimeout = 10 * time.Second
	DefaultReadHeaderTimeout   = 10 * time.Second
	DefaultReadTimeout         = time.Minute
	DefaultIdleTimeout         = 2 * time.Minute
	DefaultMaxHeaderBytes      = 64 << 10
	DefaultMaxUnverifiedBodies = 16
)

// SourceConfig is one DynamoDB source.
type SourceConfig struct {
	Name string `yaml:"name"`
	// Region and AccountID select the table ARNs this source serves (empty
	// AccountID: any account) and configure the client's region.
	Region    string `yaml:"region"`
	AccountID string `yaml:"account_id"`
	// Endpoint of a DynamoDB-compatible server; empty for AWS.
	Endpoint string `yaml:"endpoint"`
	// Profile from the shared AWS config files; empty for the default chain.
	Profile string `yaml:"profile"`
	// Static credentials, if set.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

// S3Config holds S3 credentials for vault storage.
type S3Config struct {
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
}

func loadConfig(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7171"
	}
	if c.DataDir == "" {
		c.DataDir = defaultDataDir()
	}
	if c.Region == "" {
		c.Region = os.Getenv("AWS_REGION")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.AccountID == "" {
		c.AccountID = "000000000000"
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.StartupVaultTimeout == 0 {
		c.StartupVaultTimeout = DefaultStartupVaultTimeout
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
	if c.ReadHeaderTimeout == 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxUnverifiedBodies == 0 {
		c.MaxUnverifiedBodies = DefaultMaxUnverifiedBodies
	}
}

// Validate names the field at fault.
func (c *Config) Validate() error {
	if err := validateListen(c.Listen); err != nil {
		return err
	}
	if err := c.Cluster.validate(); err != nil {
		return err
	}
	if err := c.validateMetricsListen(); err != nil {
		return err
	}
	if err := c.validateOperations(); err != nil {
		return err
	}
	if len(c.AccountID) != 12 || !allDigits(c.AccountID) {
		return fmt.Errorf("config: account_id %q must be 12 digits", c.AccountID)
	}
	if c.MaxJobs < 0 || c.RestoreWriters < 0 {
		return errors.New("config: max_jobs and restore_writers must not be negative")
	}
	if c.CheckpointItems < 0 || c.CheckpointInterval < 0 {
		return errors.New("config: checkpoint_items and checkpoint_interval must not be negative (0 is the default, 50000 items and 30s)")
	}
	if c.SchedulerInterval != 0 && c.SchedulerInterval < time.Second {
		return fmt.Errorf("config: scheduler_interval %v is too short; use at least 1s (or leave it out for 10s)", c.SchedulerInterval)
	}
	if c.LifecycleInterval != 0 && c.LifecycleInterval < time.Second {
		return fmt.Errorf("config: lifecycle_interval %v is too short; use at least 1s (or leave it out for 1m)", c.LifecycleInterval)
	}
	if c.JobHistoryDays < 0 || c.JobHistoryDays > 36500 {
		return fmt.Errorf("config: job_history_days %d must be between 1 and 36500 (or 0 to keep every job)", c.JobHistoryDays)
	}
	if comp, err := backup.ParseCompression(c.Compression); err != nil || comp != c.Compression {
		return fmt.Errorf("config: compression %q must be zstd, gzip or none", c.Compression)
	}
	if err := validateCatalog(c.Catalog); err != nil {
		return err
	}
	if err := c.Storage.validate(c.DataDir); err != nil {
		return err
	}
	if err := c.Tagging.validate(); err != nil {
		return err
	}
	if err := c.Notifications.validate(); err != nil {
		return err
	}
	names := map[string]bool{"default": true}
	for i, s := range c.Sources {
		if s.Name == "" {
			return fmt.Errorf("config: sources[%d].name is required", i)
		}
		if names[s.Name] {
			return fmt.Errorf("config: sources[%d].name %q is used twice (\"default\" is reserved)", i, s.Name)
		}
		names[s.Name] = true
		if s.Region == "" {
			return fmt.Errorf("config: sources[%d].region is required", i)
		}
		if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
			return fmt.Errorf("config: sources[%d]: set both access_key_id and secret_access_key, or neither", i)
		}
	}
	return nil
}

// validateListen checks the API address before anything is created, so a
// mistyped --listen changes nothing.
func validateListen(addr string) error {
	return validateAddr("listen", addr, "127.0.0.1:7171 or :7171")
}

// validateAddr checks the address of config key key.
func validateAddr(key, addr, example string) error {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		var n int
		n, err = strconv.Atoi(port)
		if err == nil && (n < 0 || n > 65535) {
			err = fmt.Errorf("port %d is out of range", n)
		}
	}
	if err == nil && strings.ContainsAny(host, " /") {
		err = fmt.Errorf("host %q is not a host name or IP address", host)
	}
	if err != nil {
		return fmt.Errorf("config: %s %q must be HOST:PORT, e.g. %s (%v)", key, addr, example, err)
	}
	return nil
}

// validateOperations checks the keys of the "Running the server" block.
func (c *Config) validateOperations() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"shutdown_grace", c.ShutdownGrace}, {"startup_vault_timeout", c.StartupVaultTimeout},
		{"read_header_timeout", c.ReadHeaderTimeout}, {"read_timeout", c.ReadTimeout}, {"idle_timeout", c.IdleTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("config: %s %v must not be negative (leave it out for the default)", d.name, d.v)
		}
	}
	if c.MaxHeaderBytes < 0 || c.MaxUnverifiedBodies < 0 {
		return errors.New("config: max_header_bytes and max_unverified_bodies must not be negative (leave them out for the defaults)")
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		return fmt.Errorf("config: log_format %q must be text or json", c.LogFormat)
	}
	if c.Governance != "" && !slices.Contains(policy.Presets, c.Governance) {
		return fmt.Errorf("config: governance %q must be one of %s (or left out)", c.Governance, strings.Join(policy.Presets, ", "))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("config: set both tls_cert and tls_key (--tls-cert and --tls-key), or neither")
	}
	return nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
