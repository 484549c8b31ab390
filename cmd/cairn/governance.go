package main

import (
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/governance"
	"github.com/cairn-backup/cairn/internal/runner"
)

// TaggingConfig is the governance worker's configuration (the config
// file's tagging section; docs/governance.md): how often tables are
// discovered, and required tags beyond those of the stored tag policies
// (cairn policy apply, --governance superwerker).
type TaggingConfig struct {
	// Rules are required tags besides the tag policies'.
	Rules []TagRuleConfig `yaml:"rules"`
	// Interval between discovery passes; default 10s, at least 1s.
	Interval time.Duration `yaml:"interval"`
	// DryRun reports what would be tagged and writes nothing.
	DryRun bool `yaml:"dry_run"`
	// Rate caps the DynamoDB calls per second to each source; default 50,
	// negative for none.
	Rate float64 `yaml:"rate"`
}

// TagRuleConfig is one required tag (governance.Rule).
type TagRuleConfig struct {
	Name           string   `yaml:"name"`
	Key            string   `yaml:"key"`
	Allowed        []string `yaml:"allowed"`
	Default        string   `yaml:"default"`
	OptOut         string   `yaml:"opt_out"`
	EnforcedFor    []string `yaml:"enforced_for"`
	Mode           string   `yaml:"mode"`
	ExcludeTables  []string `yaml:"exclude_tables"`
	ExcludeSources []string `yaml:"exclude_sources"`
	DryRun         bool     `yaml:"dry_run"`
}

// rules returns the configured rules.
func (c TaggingConfig) rules() ([]governance.Rule, error) {
	var out []governance.Rule
	for i, rc := range c.Rules {
		r := governance.Rule{Name: rc.Name, Key: rc.Key, Allowed: rc.Allowed, Default: rc.Default, OptOut: rc.OptOut,
			EnforcedFor: rc.EnforcedFor, Mode: governance.Mode(rc.Mode), ExcludeTables: rc.ExcludeTables,
			ExcludeSources: rc.ExcludeSources, DryRun: rc.DryRun}
		if r.EnforcedFor == nil {
			r.EnforcedFor = []string{governance.ResourceTypeTable}
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("config: tagging.rules[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// validate names the field at fault.
func (c TaggingConfig) validate() error {
	if c.Interval != 0 && c.Interval < time.Second {
		return fmt.Errorf("config: tagging.interval %v is too short; use at least 1s (or leave it out for 10s)", c.Interval)
	}
	_, err := c.rules()
	return err
}

// startGovernance starts the governance worker. Its passes do nothing
// until a rule is configured or a tag policy stored.
func (m *Main) startGovernance(sources []*runner.Source) error {
	rules, err := m.Config.Tagging.rules()
	if err != nil {
		return err
	}
	var srcs []governance.Source
	for _, s := range sources {
		srcs = append(srcs, governance.Source{Name: s.Name, Inventory: s.Client, Tagger: s.Client})
	}
	w, err := governance.New(governance.Config{
		Leader: m.leader,
		Rules:  rules, Policies: m.Service, Sources: srcs, Backups: m.Service, Store: m.catalog, Clock: m.Clock,
		Logger: m.Logger.With("component", "governance"), Interval: m.Config.Tagging.Interval,
		DryRun: m.Config.Tagging.DryRun, Rate: m.Config.Tagging.Rate,
	})
	if err != nil {
		return err
	}
	m.Governance = w
	w.Start()
	return nil
}

// stopGovernance stops the worker, waiting for a pass in progress.
func (m *Main) stopGovernance() {
	if m.Governance != nil {
		m.Governance.Stop()
		m.Governance = nil
	}
}
