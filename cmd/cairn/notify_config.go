package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/notify/targets"
)

// NotificationsConfig is the config file's notifications: key
// (docs/notifications.md).
type NotificationsConfig struct {
	// Targets are webhook and email targets, global or for one vault.
	// The API lists them (Source config) but cannot change them.
	Targets []TargetConfig `yaml:"targets"`
	// AllowedHosts are the hosts targets created through the API may call
	// (webhook URLs' hosts, SMTP servers): names, *.DOMAIN, IP addresses,
	// or "*" for any. Empty: the API can create no target. Targets of
	// this file may call any host.
	AllowedHosts []string `yaml:"allowed_hosts"`
}

// TargetConfig is one target of the config file.
type TargetConfig struct {
	// Name is unique among all targets: 1-64 letters, digits, '.', '_'
	// or '-'.
	Name string `yaml:"name"`
	// Vault limits the target to one vault's events; empty: all vaults.
	Vault string `yaml:"vault"`
	// Events are AWS Backup BackupVaultEvents names; empty: all events.
	Events []string `yaml:"events"`
	// Exactly one of Webhook and Email.
	Webhook *WebhookTargetConfig `yaml:"webhook"`
	Email   *EmailTargetConfig   `yaml:"email"`
}

// WebhookTargetConfig is a webhook target's settings.
type WebhookTargetConfig struct {
	URL string `yaml:"url"`
	// Secret is the HMAC-SHA256 key (required for format json).
	Secret string `yaml:"secret"`
	// Format is json (default) or slack.
	Format string `yaml:"format"`
	// Timeout of one attempt; default 10s, at most 5m.
	Timeout time.Duration `yaml:"timeout"`
}

// EmailTargetConfig is an email target's settings.
type EmailTargetConfig struct {
	Host string `yaml:"host"`
	// Port; default 587 (465 for tls: tls, 25 for tls: none).
	Port int `yaml:"port"`
	// TLS is starttls (default), tls or none.
	TLS      string   `yaml:"tls"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	// Timeout of one attempt; default 30s, at most 5m.
	Timeout time.Duration `yaml:"timeout"`
}

func seconds(d time.Duration) int {
	if d <= 0 {
		return int(d / time.Second)
	}
	return int((d + time.Second - 1) / time.Second)
}

// targets returns the configured targets as the domain's.
func (c NotificationsConfig) targets() []*backup.NotificationTarget {
	var out []*backup.NotificationTarget
	for _, tc := range c.Targets {
		t := &backup.NotificationTarget{Name: tc.Name, VaultName: tc.Vault, Source: backup.TargetSourceConfig}
		for _, e := range tc.Events {
			t.Events = append(t.Events, backup.EventType(e))
		}
		if w := tc.Webhook; w != nil {
			t.Webhook = &backup.WebhookSettings{URL: w.URL, Secret: w.Secret, Format: w.Format, TimeoutSeconds: seconds(w.Timeout)}
		}
		if e := tc.Email; e != nil {
			t.Email = &backup.EmailSettings{Host: e.Host, Port: e.Port, TLS: e.TLS, Username: e.Username, Password: e.Password,
				From: e.From, To: e.To, TimeoutSeconds: seconds(e.Timeout)}
		}
		out = append(out, t)
	}
	return out
}

// validate names the target at fault; it never shows a secret.
func (c NotificationsConfig) validate() error {
	if _, err := targets.New(nil, c.options(slog.New(slog.DiscardHandler), time.Now)); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// openTargets makes the notification targets' manager over the catalog:
// the config file's targets and those the API creates.
func (m *Main) openTargets() (*targets.Manager, error) {
	clk := m.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	return targets.New(m.catalog, m.Config.Notifications.options(m.Logger, clk.Now))
}

func (c NotificationsConfig) options(log *slog.Logger, now func() time.Time) targets.Options {
	return targets.Options{Configured: c.targets(), AllowedHosts: c.AllowedHosts, Now: now, Log: log}
}
