package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the server's configuration: flags override the file, the file
// overrides the defaults documented on each field.
type Config struct {
	// Listen is the API's address; default 127.0.0.1:7171.
	Listen string `yaml:"listen"`
	// DataDir holds the catalog, the key pair and local vaults; default
	// CAIRN_DATA_DIR or ~/.local/share/cairn.
	DataDir string `yaml:"data_dir"`
	// Region and AccountID appear in cairn's own ARNs (vaults, recovery
	// points); defaults us-east-1 (or AWS_REGION) and 000000000000.
	Region    string `yaml:"region"`
	AccountID string `yaml:"account_id"`
	// MaxJobs is how many backup and restore jobs run at once; default 4.
	MaxJobs int `yaml:"max_jobs"`
	// RestoreWriters is the parallel BatchWriteItem callers per restore; default 8.
	RestoreWriters int `yaml:"restore_writers"`
	// Compression of data files: zstd (default) or gzip.
	Compression string `yaml:"compression"`
	// SchedulerInterval is how often the scheduler looks for due plan rules
	// and for jobs whose windows closed; default 10s, at least 1s.
	SchedulerInterval time.Duration `yaml:"scheduler_interval"`
	// LifecycleInterval is how often recovery points are moved to cold
	// storage or deleted as their lifecycle says; default 1m, at least 1s.
	LifecycleInterval time.Duration `yaml:"lifecycle_interval"`
	// Sources are DynamoDB endpoints beyond the default one, which the AWS
	// SDK's standard configuration gives (AWS_REGION,
	// AWS_ENDPOINT_URL_DYNAMODB, profiles, the credential chain) and which
	// is always last.
	Sources []SourceConfig `yaml:"sources"`
	// S3 holds credentials for S3 vault storage; default the SDK's chain.
	S3 S3Config `yaml:"s3"`
	// VaultLocations name vaults kept outside the data dir, for `cairn
	// catalog rebuild` and the start-up check of the catalog to find when
	// the catalog is lost (docs/catalog.md). The server takes its vaults
	// from the catalog, not from here.
	VaultLocations []VaultLocation `yaml:"vault_locations"`
}

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
}

// Validate names the field at fault.
func (c *Config) Validate() error {
	if len(c.AccountID) != 12 || !allDigits(c.AccountID) {
		return fmt.Errorf("config: account_id %q must be 12 digits", c.AccountID)
	}
	if c.MaxJobs < 0 || c.RestoreWriters < 0 {
		return errors.New("config: max_jobs and restore_writers must not be negative")
	}
	if c.SchedulerInterval != 0 && c.SchedulerInterval < time.Second {
		return fmt.Errorf("config: scheduler_interval %v is too short; use at least 1s (or leave it out for 10s)", c.SchedulerInterval)
	}
	if c.LifecycleInterval != 0 && c.LifecycleInterval < time.Second {
		return fmt.Errorf("config: lifecycle_interval %v is too short; use at least 1s (or leave it out for 1m)", c.LifecycleInterval)
	}
	switch c.Compression {
	case "", "zstd", "gzip":
	default:
		return fmt.Errorf("config: compression %q must be zstd or gzip", c.Compression)
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

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
