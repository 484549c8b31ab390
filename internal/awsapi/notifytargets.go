package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// cairn's own notification targets (docs/notifications.md), outside AWS's
// URI space:
//
//	PUT    /cairn/notification-targets/{targetName}  CreateNotificationTargetInput -> NotificationTargetOutput
//	GET    /cairn/notification-targets               -> ListNotificationTargetsOutput
//	GET    /cairn/notification-targets/{targetName}  -> NotificationTargetOutput
//	DELETE /cairn/notification-targets/{targetName}  -> {}
//
// Secrets (a webhook's Secret, an email target's Password) are accepted
// and never returned: outputs say HasSecret instead, and show a webhook's
// URL as its origin only.

// CreateNotificationTargetInput is the body of PUT
// /cairn/notification-targets/{targetName}. Kind may be left out when
// exactly one of Webhook and Email is given.
type CreateNotificationTargetInput struct {
	Kind            string           `json:"Kind,omitempty"`
	BackupVaultName string           `json:"BackupVaultName,omitempty"`
	Events          []string         `json:"Events,omitempty"`
	Webhook         *WebhookSettings `json:"Webhook,omitempty"`
	Email           *EmailSettings   `json:"Email,omitempty"`
}

// WebhookSettings of a webhook target.
type WebhookSettings struct {
	Url            string `json:"Url"`
	Secret         string `json:"Secret,omitempty"`
	Format         string `json:"Format,omitempty"`
	TimeoutSeconds int    `json:"TimeoutSeconds,omitempty"`
}

// EmailSettings of an email target.
type EmailSettings struct {
	Host           string   `json:"Host"`
	Port           int      `json:"Port,omitempty"`
	Tls            string   `json:"Tls,omitempty"`
	Username       string   `json:"Username,omitempty"`
	Password       string   `json:"Password,omitempty"`
	From           string   `json:"From"`
	To             []string `json:"To"`
	TimeoutSeconds int      `json:"TimeoutSeconds,omitempty"`
}

// NotificationTarget is a target as the API shows it.
type NotificationTarget struct {
	TargetName      string           `json:"TargetName"`
	Kind            string           `json:"Kind"`
	BackupVaultName string           `json:"BackupVaultName,omitempty"`
	Events          []string         `json:"Events"`
	Webhook         *WebhookSettings `json:"Webhook,omitempty"`
	Email           *EmailSettings   `json:"Email,omitempty"`
	HasSecret       bool             `json:"HasSecret"`
	// Source is "api" or "config" (the server's config file).
	Source       string `json:"Source"`
	CreationDate Time   `json:"CreationDate,omitzero"`
}

// NotificationTargetOutput answers CreateNotificationTarget and
// GetNotificationTarget.
type NotificationTargetOutput struct {
	NotificationTarget NotificationTarget `json:"NotificationTarget"`
}

// ListNotificationTargetsOutput answers ListNotificationTargets.
type ListNotificationTargetsOutput struct {
	NotificationTargets []NotificationTarget `json:"NotificationTargets"`
}

func targetName(q *request) (string, error) {
	name := q.path("targetName")
	if name == "" {
		return "", missingParam("TargetName")
	}
	if !backup.ValidTargetName(name) {
		return "", invalidParam("TargetName %q must be 1-%d letters, digits, '.', '_' or '-', starting with a letter or digit",
			name, backup.MaxTargetNameLen)
	}
	return name, nil
}

func (s *Server) createNotificationTarget(q *request) (any, error) {
	name, err := targetName(q)
	if err != nil {
		return nil, err
	}
	var in CreateNotificationTargetInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	t := &backup.NotificationTarget{Name: name, Kind: in.Kind, VaultName: in.BackupVaultName}
	events, err := backup.ParseEventTypes(in.Events)
	if err != nil {
		return nil, err
	}
	t.Events = events
	if w := in.Webhook; w != nil {
		t.Webhook = &backup.WebhookSettings{URL: w.Url, Secret: w.Secret, Format: w.Format, TimeoutSeconds: w.TimeoutSeconds}
	}
	if e := in.Email; e != nil {
		t.Email = &backup.EmailSettings{Host: e.Host, Port: e.Port, TLS: e.Tls, Username: e.Username, Password: e.Password,
			From: e.From, To: e.To, TimeoutSeconds: e.TimeoutSeconds}
	}
	v, err := s.svc.CreateNotificationTarget(q.ctx(), t)
	if err != nil {
		return nil, err
	}
	return NotificationTargetOutput{NotificationTarget: toNotificationTarget(v)}, nil
}

func (s *Server) getNotificationTarget(q *request) (any, error) {
	name, err := targetName(q)
	if err != nil {
		return nil, err
	}
	v, err := s.svc.GetNotificationTarget(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return NotificationTargetOutput{NotificationTarget: toNotificationTarget(v)}, nil
}

func (s *Server) deleteNotificationTarget(q *request) (any, error) {
	name, err := targetName(q)
	if err != nil {
		return nil, err
	}
	if err := s.svc.DeleteNotificationTarget(q.ctx(), name); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Server) listNotificationTargets(q *request) (any, error) {
	if err := q.err(); err != nil {
		return nil, err
	}
	vs, err := s.svc.ListNotificationTargets(q.ctx())
	if err != nil {
		return nil, err
	}
	out := ListNotificationTargetsOutput{NotificationTargets: []NotificationTarget{}}
	for _, v := range vs {
		out.NotificationTargets = append(out.NotificationTargets, toNotificationTarget(v))
	}
	return out, nil
}

// toNotificationTarget shows v, which the service has redacted; the
// secrets are dropped here again so that no output can carry them.
func toNotificationTarget(v *backup.TargetView) NotificationTarget {
	t := v.Target
	out := NotificationTarget{TargetName: t.Name, Kind: t.Kind, BackupVaultName: t.VaultName, Events: []string{},
		HasSecret: v.HasSecret, Source: t.Source, CreationDate: Time(t.CreationDate)}
	for _, e := range t.Events {
		out.Events = append(out.Events, string(e))
	}
	if w := t.Webhook; w != nil {
		out.Webhook = &WebhookSettings{Url: w.URL, Format: w.Format, TimeoutSeconds: w.TimeoutSeconds}
	}
	if e := t.Email; e != nil {
		out.Email = &EmailSettings{Host: e.Host, Port: e.Port, Tls: e.TLS, Username: e.Username, From: e.From,
			To: append([]string{}, e.To...), TimeoutSeconds: e.TimeoutSeconds}
	}
	return out
}
