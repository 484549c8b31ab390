package postgres

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindTarget = "NotificationTarget"

const targetCols = "name, kind, vault_name, events, settings, creation_ns"

func scanTarget(s scanner) (*backup.NotificationTarget, error) {
	var (
		t        backup.NotificationTarget
		events   *string
		settings *string
		created  *int64
	)
	if err := s.Scan(&t.Name, &t.Kind, &t.VaultName, &events, &settings, &created); err != nil {
		return nil, err
	}
	t.Source = backup.TargetSourceAPI
	t.CreationDate = timeOf(created)
	if err := fromJSON(events, &t.Events); err != nil {
		return nil, fmt.Errorf("notification target %s: events: %w", t.Name, err)
	}
	var err error
	switch t.Kind {
	case backup.TargetKindWebhook:
		t.Webhook = &backup.WebhookSettings{}
		err = fromJSON(settings, t.Webhook)
	case backup.TargetKindEmail:
		t.Email = &backup.EmailSettings{}
		err = fromJSON(settings, t.Email)
	}
	if err != nil {
		return nil, fmt.Errorf("notification target %s: settings: %w", t.Name, err)
	}
	return &t, nil
}

// CreateNotificationTarget implements backup.NotificationTargetStore;
// ErrAlreadyExists if the name is taken (the primary key decides, also
// between two servers).
func (c *Catalog) CreateNotificationTarget(ctx context.Context, t *backup.NotificationTarget) error {
	switch {
	case t.Name == "":
		return backup.Errorf(backup.ErrMissingParameter, "Name is required")
	case t.Kind == "":
		return backup.Errorf(backup.ErrMissingParameter, "Kind is required")
	}
	created, err := requiredNanos(t.CreationDate, "CreationDate")
	if err != nil {
		return err
	}
	var settings any
	switch {
	case t.Kind == backup.TargetKindWebhook && t.Webhook != nil:
		settings = t.Webhook
	case t.Kind == backup.TargetKindEmail && t.Email != nil:
		settings = t.Email
	default:
		return backup.Errorf(backup.ErrMissingParameter, "the settings of a %s target are required", t.Kind)
	}
	st, err := jsonText(settings, false)
	if err != nil {
		return fmt.Errorf("postgres: create notification target %s: %w", t.Name, err)
	}
	events, err := jsonText(t.Events, len(t.Events) == 0)
	if err != nil {
		return fmt.Errorf("postgres: create notification target %s: %w", t.Name, err)
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO notification_targets (`+targetCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Name, t.Kind, t.VaultName, events, st, created)
	switch {
	case isPrimaryKeyViolation(err, "notification_targets"):
		return wrapf(err, backup.ErrAlreadyExists, kindTarget, t.Name, "notification target %s already exists", t.Name)
	case err != nil:
		return fmt.Errorf("postgres: create notification target %s: %w", t.Name, err)
	}
	return nil
}

// GetNotificationTarget implements backup.NotificationTargetStore.
func (c *Catalog) GetNotificationTarget(ctx context.Context, name string) (*backup.NotificationTarget, error) {
	return getOne(c.pool.QueryRow(ctx, "SELECT "+targetCols+" FROM notification_targets WHERE name = $1", name),
		scanTarget, kindTarget, name)
}

// ListNotificationTargets implements backup.NotificationTargetStore: every
// stored target by name (byte order, as on SQLite).
func (c *Catalog) ListNotificationTargets(ctx context.Context) ([]*backup.NotificationTarget, error) {
	rows, err := c.pool.Query(ctx, "SELECT "+targetCols+" FROM notification_targets ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("postgres: list notification targets: %w", err)
	}
	out, err := collectRows(rows, scanTarget)
	if err != nil {
		return nil, fmt.Errorf("postgres: list notification targets: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// DeleteNotificationTarget implements backup.NotificationTargetStore;
// ErrNotFound if absent.
func (c *Catalog) DeleteNotificationTarget(ctx context.Context, name string) error {
	tag, err := c.pool.Exec(ctx, "DELETE FROM notification_targets WHERE name = $1", name)
	if err != nil {
		return fmt.Errorf("postgres: delete notification target %s: %w", name, err)
	}
	return affectedOne(tag, kindTarget, name)
}
