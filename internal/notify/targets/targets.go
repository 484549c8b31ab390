// Package targets is cairn's configured notification targets: it
// validates webhook and email targets, keeps those created through the
// API in the catalog beside those of the server's config file (the
// backup.NotificationTargetService behind /cairn/notification-targets),
// and resolves, for an event, the targets whose vault and event filter
// accept it, built as notify.Targets (internal/notify/webhook,
// internal/notify/email) for the outbox's sender.
package targets

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/notify/email"
	"github.com/cairn-backup/cairn/internal/notify/webhook"
)

// MaxTimeoutSeconds is the longest attempt a target may configure.
const MaxTimeoutSeconds = 300

// Store is what the package needs of the catalog.
type Store interface {
	backup.NotificationTargetStore
	GetVault(ctx context.Context, name string) (*backup.Vault, error)
}

// Validate checks t as the API and the config file take it, filling in
// Kind when only one kind's settings are given. Errors are
// ErrInvalidParameter or ErrMissingParameter naming the field; they never
// contain a secret.
func Validate(t *backup.NotificationTarget) error {
	if t.Name == "" {
		return backup.Errorf(backup.ErrMissingParameter, "a notification target needs a name")
	}
	if !backup.ValidTargetName(t.Name) {
		return backup.Errorf(backup.ErrInvalidParameter,
			"target name %q must be 1-%d letters, digits, '.', '_' or '-', starting with a letter or digit", t.Name, backup.MaxTargetNameLen)
	}
	if t.Kind == "" {
		switch {
		case t.Webhook != nil && t.Email == nil:
			t.Kind = backup.TargetKindWebhook
		case t.Email != nil && t.Webhook == nil:
			t.Kind = backup.TargetKindEmail
		}
	}
	switch t.Kind {
	case backup.TargetKindWebhook:
		if t.Webhook == nil {
			return backup.Errorf(backup.ErrMissingParameter, "target %s: a webhook target needs its webhook settings (url, secret)", t.Name)
		}
		if t.Email != nil {
			return backup.Errorf(backup.ErrInvalidParameter, "target %s: a webhook target takes no email settings", t.Name)
		}
	case backup.TargetKindEmail:
		if t.Email == nil {
			return backup.Errorf(backup.ErrMissingParameter, "target %s: an email target needs its email settings (host, from, to)", t.Name)
		}
		if t.Webhook != nil {
			return backup.Errorf(backup.ErrInvalidParameter, "target %s: an email target takes no webhook settings", t.Name)
		}
	case "":
		return backup.Errorf(backup.ErrMissingParameter, "target %s: give either webhook or email settings", t.Name)
	default:
		return backup.Errorf(backup.ErrInvalidParameter, "target %s: kind %q must be %s or %s", t.Name, t.Kind,
			backup.TargetKindWebhook, backup.TargetKindEmail)
	}
	if t.VaultName != "" {
		if err := backup.ValidateVaultName(t.VaultName); err != nil {
			return backup.Errorf(backup.ErrInvalidParameter, "target %s: %s", t.Name, err.(*backup.Error).Message)
		}
	}
	names := make([]string, len(t.Events))
	for i, e := range t.Events {
		names[i] = string(e)
	}
	events, err := backup.ParseEventTypes(names)
	if err != nil {
		return backup.Errorf(backup.ErrInvalidParameter, "target %s: %s", t.Name, err.(*backup.Error).Message)
	}
	t.Events = events
	if _, err := Build(t); err != nil {
		return backup.Errorf(backup.ErrInvalidParameter, "%v", err)
	}
	return nil
}

// Build returns the notify.Target that delivers to t.
func Build(t *backup.NotificationTarget, opts ...webhook.Option) (notify.Target, error) {
	timeout := func(s int) (time.Duration, error) {
		if s < 0 || s > MaxTimeoutSeconds {
			return 0, fmt.Errorf("timeout_seconds %d must be 0 (the default) to %d", s, MaxTimeoutSeconds)
		}
		return time.Duration(s) * time.Second, nil
	}
	switch {
	case t.Kind == backup.TargetKindWebhook && t.Webhook != nil:
		d, err := timeout(t.Webhook.TimeoutSeconds)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: %w", t.Name, err)
		}
		return webhook.New(t.Name, webhook.Config{URL: t.Webhook.URL, Secret: t.Webhook.Secret,
			Format: t.Webhook.Format, Timeout: d}, opts...)
	case t.Kind == backup.TargetKindEmail && t.Email != nil:
		d, err := timeout(t.Email.TimeoutSeconds)
		if err != nil {
			return nil, fmt.Errorf("email %s: %w", t.Name, err)
		}
		e := t.Email
		return email.New(t.Name, email.Config{Host: e.Host, Port: e.Port, TLS: e.TLS, Username: e.Username,
			Password: e.Password, From: e.From, To: e.To, Timeout: d})
	}
	return nil, fmt.Errorf("target %s: kind %q without its settings", t.Name, t.Kind)
}

// Manager serves the API's target operations and resolves events to
// targets. It is safe for concurrent use.
type Manager struct {
	store      Store
	configured []*backup.NotificationTarget // by name
	allowed    []string
	now        func() time.Time
	log        *slog.Logger

	mu      sync.Mutex
	built   map[string]builtTarget // by name
	refused map[string]bool        // stored targets whose host is no longer allowed, logged once
}

type builtTarget struct {
	fingerprint string
	target      notify.Target
}

// Options configure a Manager.
type Options struct {
	// Configured are the config file's targets; they may call any host
	// and their vaults need not exist yet.
	Configured []*backup.NotificationTarget
	// AllowedHosts are the hosts targets created through the API may call
	// (webhook URLs' hosts, SMTP servers): names, "*.example.com" for any
	// name below example.com, IP addresses, or "*" for any host. Empty: the
	// API can create no target. The operator decides whom the server
	// calls, not a client.
	AllowedHosts []string
	// Now is the catalog's clock; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// New returns a Manager over store. It validates the configured targets
// and the allowed hosts, naming the one at fault.
func New(store Store, o Options) (*Manager, error) {
	m := &Manager{store: store, now: o.Now, log: o.Log, built: map[string]builtTarget{}, refused: map[string]bool{}}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	for i, h := range o.AllowedHosts {
		if err := ValidAllowedHost(h); err != nil {
			return nil, fmt.Errorf("notifications.allowed_hosts[%d]: %w", i, err)
		}
		m.allowed = append(m.allowed, strings.ToLower(strings.TrimSuffix(h, ".")))
	}
	seen := map[string]bool{}
	for i, c := range o.Configured {
		t := *c
		t.Source = backup.TargetSourceConfig
		if err := Validate(&t); err != nil {
			return nil, fmt.Errorf("notifications.targets[%d]: %s", i, err.(*backup.Error).Message)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("notifications.targets[%d]: name %q is used twice", i, t.Name)
		}
		seen[t.Name] = true
		m.configured = append(m.configured, &t)
	}
	sort.Slice(m.configured, func(i, j int) bool { return m.configured[i].Name < m.configured[j].Name })
	return m, nil
}

// ValidAllowedHost checks one entry of Options.AllowedHosts.
func ValidAllowedHost(h string) error {
	name := strings.TrimPrefix(h, "*.")
	switch {
	case h == "*":
		return nil
	case name == "" || strings.ContainsAny(name, "/:@ *") && net.ParseIP(name) == nil:
		return fmt.Errorf("%q must be a host name, *.DOMAIN, an IP address or *", h)
	}
	return nil
}

// hostOf is the host a target calls.
func hostOf(t *backup.NotificationTarget) string {
	switch {
	case t.Webhook != nil:
		if u, err := url.Parse(t.Webhook.URL); err == nil {
			return strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		}
	case t.Email != nil:
		return strings.ToLower(strings.TrimSuffix(strings.Trim(t.Email.Host, "[]"), "."))
	}
	return ""
}

// allows reports whether the operator lets API targets call host.
func (m *Manager) allows(host string) bool {
	for _, a := range m.allowed {
		switch {
		case a == "*", a == host:
			return true
		case strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]):
			return true
		}
	}
	return false
}

func (m *Manager) configuredTarget(name string) *backup.NotificationTarget {
	for _, t := range m.configured {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func view(t *backup.NotificationTarget) *backup.TargetView {
	r, has := t.Redacted()
	if r.Webhook != nil {
		r.Webhook.URL = webhook.Redact(r.Webhook.URL)
	}
	return &backup.TargetView{Target: r, HasSecret: has}
}

// CreateNotificationTarget implements backup.NotificationTargetService.
func (m *Manager) CreateNotificationTarget(ctx context.Context, in *backup.NotificationTarget) (*backup.TargetView, error) {
	t := *in
	t.Events = slices.Clone(in.Events)
	t.Source = backup.TargetSourceAPI
	if err := Validate(&t); err != nil {
		return nil, err
	}
	if h := hostOf(&t); !m.allows(h) {
		return nil, backup.Errorf(backup.ErrInvalidParameter,
			"target %s: host %s is not one the server's operator allows targets created through the API to call; "+
				"the operator adds it to notifications.allowed_hosts in the server's config file", t.Name, h)
	}
	if m.configuredTarget(t.Name) != nil {
		return nil, &backup.Error{Code: backup.ErrAlreadyExists, Type: "NotificationTarget", Context: t.Name,
			Message: fmt.Sprintf("notification target %s is defined in the server's config file; choose another name", t.Name)}
	}
	if t.VaultName != "" {
		if _, err := m.store.GetVault(ctx, t.VaultName); backup.IsNotFound(err) {
			return nil, &backup.Error{Code: backup.ErrNotFound, Type: "BackupVault", Context: t.VaultName,
				Message: fmt.Sprintf("target %s: vault %s does not exist; create it first, or leave the vault out for a global target", t.Name, t.VaultName)}
		} else if err != nil {
			return nil, err
		}
	}
	t.CreationDate = m.now().UTC()
	if err := m.store.CreateNotificationTarget(ctx, &t); err != nil {
		return nil, err
	}
	m.log.Info("notification target created", "target", t.Name, "kind", t.Kind, "vault", t.VaultName)
	return view(&t), nil
}

// GetNotificationTarget implements backup.NotificationTargetService.
func (m *Manager) GetNotificationTarget(ctx context.Context, name string) (*backup.TargetView, error) {
	if t := m.configuredTarget(name); t != nil {
		return view(t), nil
	}
	t, err := m.store.GetNotificationTarget(ctx, name)
	if err != nil {
		return nil, err
	}
	return view(t), nil
}

// ListNotificationTargets implements backup.NotificationTargetService.
func (m *Manager) ListNotificationTargets(ctx context.Context) ([]*backup.TargetView, error) {
	all, err := m.all(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*backup.TargetView, len(all))
	for i, t := range all {
		out[i] = view(t)
	}
	return out, nil
}

// DeleteNotificationTarget implements backup.NotificationTargetService.
func (m *Manager) DeleteNotificationTarget(ctx context.Context, name string) error {
	if m.configuredTarget(name) != nil {
		return &backup.Error{Code: backup.ErrInvalidRequest, Type: "NotificationTarget", Context: name,
			Message: fmt.Sprintf("notification target %s is defined in the server's config file; remove it there and restart", name)}
	}
	if err := m.store.DeleteNotificationTarget(ctx, name); err != nil {
		return err
	}
	m.log.Info("notification target deleted", "target", name)
	return nil
}

// all returns the configured and stored targets, by name.
func (m *Manager) all(ctx context.Context) ([]*backup.NotificationTarget, error) {
	stored, err := m.store.ListNotificationTargets(ctx)
	if err != nil {
		return nil, fmt.Errorf("notification targets: %w", err)
	}
	all := append(slices.Clone(m.configured), stored...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// Targets returns the targets that want ev: the global ones and those of
// ev's vault whose event filter accepts it. A stored target that no longer
// builds (an older server's settings) is logged and left out.
func (m *Manager) Targets(ctx context.Context, ev backup.Event) ([]notify.Target, error) {
	s, err := m.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.Targets(ctx, ev)
}

// Snapshot implements notify.Snapshotter: the targets as they are now,
// read from the catalog once, for the sender's next batch.
func (m *Manager) Snapshot(ctx context.Context) (notify.Resolver, error) {
	return m.snapshot(ctx)
}

// snapshot reads every target once and builds those that may be used.
func (m *Manager) snapshot(ctx context.Context) (*snapshot, error) {
	all, err := m.all(ctx)
	if err != nil {
		return nil, err
	}
	s := &snapshot{m: m, targets: make([]snapTarget, 0, len(all))}
	for _, t := range all {
		if t.Source == backup.TargetSourceAPI && !m.allows(hostOf(t)) {
			s.targets = append(s.targets, snapTarget{t: t, refused: true})
			continue
		}
		nt, err := m.build(t)
		s.targets = append(s.targets, snapTarget{t: t, built: nt, err: err})
	}
	return s, nil
}

// snapshot is the targets as one reading of the catalog found them. It is
// read-only once made, so safe for concurrent use.
type snapshot struct {
	m       *Manager
	targets []snapTarget
}

type snapTarget struct {
	t       *backup.NotificationTarget
	built   notify.Target
	err     error // why it cannot be built
	refused bool  // an API target whose host is no longer allowed
}

// Targets implements notify.Resolver.
func (s *snapshot) Targets(_ context.Context, ev backup.Event) ([]notify.Target, error) {
	var out []notify.Target
	for _, st := range s.targets {
		t := st.t
		if !t.Accepts(ev) {
			continue
		}
		if st.refused {
			s.m.mu.Lock()
			if !s.m.refused[t.Name] {
				s.m.refused[t.Name] = true
				s.m.log.Warn("notification target left out: its host is no longer in notifications.allowed_hosts",
					"target", t.Name, "host", hostOf(t))
			}
			s.m.mu.Unlock()
			continue
		}
		if st.err != nil {
			s.m.log.Error("notification target cannot be used", "target", t.Name, "err", st.err)
			continue
		}
		out = append(out, st.built)
	}
	return out, nil
}

// build returns the notify.Target for t, reusing the one built for the
// same settings (and so its HTTP connections).
func (m *Manager) build(t *backup.NotificationTarget) (notify.Target, error) {
	fp, err := json.Marshal(struct {
		K string
		W *backup.WebhookSettings
		E *backup.EmailSettings
	}{t.Kind, t.Webhook, t.Email})
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.built[t.Name]; ok && b.fingerprint == string(fp) {
		return b.target, nil
	}
	nt, err := Build(t)
	if err != nil {
		return nil, err
	}
	m.built[t.Name] = builtTarget{fingerprint: string(fp), target: nt}
	return nt, nil
}
