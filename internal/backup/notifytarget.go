package backup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Notification targets: cairn's own channels for domain events (Event),
// beside AWS Backup's vault notifications (an SNS topic per vault). A
// target is a webhook or a list of email addresses, global or limited to
// one vault, with a filter of event types. Targets come from the server's
// config file (read-only through the API) or from the API, which keeps
// them in the catalog (NotificationTargetStore). AWS Backup has no such
// API; it is a cairn extension served under /cairn/notification-targets.

// Kinds of NotificationTarget.
const (
	TargetKindWebhook = "webhook"
	TargetKindEmail   = "email"
)

// Sources of a NotificationTarget.
const (
	// TargetSourceAPI: created through the API, kept in the catalog.
	TargetSourceAPI = "api"
	// TargetSourceConfig: from the server's config file (notifications:),
	// changed only there.
	TargetSourceConfig = "config"
)

// NotificationTarget is one configured destination for events.
type NotificationTarget struct {
	// Name is unique among all targets (config file and catalog): 1-64
	// letters, digits, '.', '_' or '-' (ValidTargetName).
	Name string
	Kind string // TargetKindWebhook or TargetKindEmail
	// VaultName limits the target to the events of one vault; empty
	// means every event (a global target).
	VaultName string
	// Events are the event types the target wants; empty means all.
	Events []EventType
	// Exactly the one of Webhook and Email that Kind names is set.
	Webhook *WebhookSettings
	Email   *EmailSettings

	Source       string // TargetSourceAPI or TargetSourceConfig
	CreationDate time.Time
}

// WebhookSettings configure a webhook target (internal/notify/webhook).
type WebhookSettings struct {
	URL string `json:"url"`
	// Secret is the HMAC-SHA256 key; never shown by the API.
	Secret string `json:"secret,omitempty"`
	// Format is "json" (default) or "slack".
	Format string `json:"format,omitempty"`
	// TimeoutSeconds bounds one attempt; 0 is the target's default.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// EmailSettings configure an email target (internal/notify/email).
type EmailSettings struct {
	Host string `json:"host"`
	Port int    `json:"port,omitempty"`
	// TLS is "starttls" (default), "tls" or "none".
	TLS      string `json:"tls,omitempty"`
	Username string `json:"username,omitempty"`
	// Password is never shown by the API.
	Password       string   `json:"password,omitempty"`
	From           string   `json:"from"`
	To             []string `json:"to"`
	TimeoutSeconds int      `json:"timeout_seconds,omitempty"`
}

// MaxTargetNameLen is the longest target name.
const MaxTargetNameLen = 64

// ValidTargetName reports whether name can name a target: 1-64 letters,
// digits, '.', '_' or '-', starting with a letter or digit. (No ':', so a
// target's name never looks like an SNS topic's ARN in delivery records.)
func ValidTargetName(name string) bool {
	if name == "" || len(name) > MaxTargetNameLen {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// ParseEventTypes checks names against EventTypes (AWS Backup's
// BackupVaultEvents that cairn records) and returns them without
// duplicates, in the order given. An unknown name is ErrInvalidParameter
// listing the known ones.
func ParseEventTypes(names []string) ([]EventType, error) {
	var out []EventType
	for _, n := range names {
		e := EventType(strings.TrimSpace(n))
		if !slices.Contains(EventTypes, e) {
			known := make([]string, len(EventTypes))
			for i, k := range EventTypes {
				known[i] = string(k)
			}
			return nil, Errorf(ErrInvalidParameter, "unknown event %q; events are AWS Backup's BackupVaultEvents names: %s",
				n, strings.Join(known, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Accepts reports whether the target wants ev: ev is of one of its
// Events (any when empty; EventTest whatever they are) and, for a vault's
// target, of its vault (for a copy job, the source or the destination
// vault).
func (t *NotificationTarget) Accepts(ev Event) bool {
	if len(t.Events) > 0 && ev.Type != EventTest && !slices.Contains(t.Events, ev.Type) {
		return false
	}
	if t.VaultName == "" {
		return true
	}
	if ev.VaultName == t.VaultName {
		return true
	}
	if ev.DestinationVaultARN != "" {
		if a, err := ParseARN(ev.DestinationVaultARN); err == nil && a.Resource == "backup-vault:"+t.VaultName {
			return true
		}
	}
	return false
}

// Redacted returns a copy of t without its secrets (the webhook's key, the
// SMTP password), for the API and logs. HasSecret says whether t had one.
func (t *NotificationTarget) Redacted() (r *NotificationTarget, hasSecret bool) {
	c := *t
	c.Events = slices.Clone(t.Events)
	if t.Webhook != nil {
		w := *t.Webhook
		hasSecret = w.Secret != ""
		w.Secret = ""
		c.Webhook = &w
	}
	if t.Email != nil {
		e := *t.Email
		hasSecret = e.Password != ""
		e.Password = ""
		e.To = slices.Clone(t.Email.To)
		c.Email = &e
	}
	return &c, hasSecret
}

// String names the target for logs, without secrets.
func (t *NotificationTarget) String() string {
	scope := "global"
	if t.VaultName != "" {
		scope = "vault " + t.VaultName
	}
	return fmt.Sprintf("%s target %s (%s)", t.Kind, t.Name, scope)
}

// NotificationTargetStore keeps the targets created through the API,
// secrets included (the resolver needs them; the API never shows them).
type NotificationTargetStore interface {
	// CreateNotificationTarget stores t. It fails with ErrAlreadyExists if
	// a target of that name is stored, and with ErrMissingParameter
	// without Name, Kind or CreationDate.
	CreateNotificationTarget(ctx context.Context, t *NotificationTarget) error
	// GetNotificationTarget returns the target or ErrNotFound.
	GetNotificationTarget(ctx context.Context, name string) (*NotificationTarget, error)
	// ListNotificationTargets returns every stored target, by name.
	ListNotificationTargets(ctx context.Context) ([]*NotificationTarget, error)
	// DeleteNotificationTarget removes the target; ErrNotFound if absent.
	DeleteNotificationTarget(ctx context.Context, name string) error
}

// NotificationTargetService manages targets for the API. Every target it
// returns is Redacted; HasSecret tells whether it holds one.
type NotificationTargetService interface {
	// CreateNotificationTarget validates t and stores it (Source api).
	// Invalid targets are ErrInvalidParameter or ErrMissingParameter and
	// change nothing; a name taken by a stored or configured target is
	// ErrAlreadyExists; an unknown VaultName is ErrNotFound.
	CreateNotificationTarget(ctx context.Context, t *NotificationTarget) (*TargetView, error)
	// GetNotificationTarget returns a stored or configured target, or
	// ErrNotFound.
	GetNotificationTarget(ctx context.Context, name string) (*TargetView, error)
	// ListNotificationTargets returns the configured and stored targets, by
	// name.
	ListNotificationTargets(ctx context.Context) ([]*TargetView, error)
	// DeleteNotificationTarget removes a stored target; ErrNotFound if
	// there is none, ErrInvalidRequest for one from the config file.
	DeleteNotificationTarget(ctx context.Context, name string) error
}

// TargetView is a target as the API shows it: without secrets.
type TargetView struct {
	Target    *NotificationTarget // Redacted
	HasSecret bool
}
