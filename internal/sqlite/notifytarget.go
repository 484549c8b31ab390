package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

const kindTarget = "NotificationTarget"

const targetCols = "name, kind, vault_name, events, settings, creation_ns"

func scanTarget(s scanner) (*backup.NotificationTarget, error) {
	var (
		t        backup.NotificationTarget
		events   sql.NullString
		settings sql.NullString
		created  sql.NullInt64
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

// CreateNotificationTarget stores t; ErrAlreadyExists if the name is taken.
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
		return fmt.Errorf("sqlite: create notification target %s: %w", t.Name, err)
	}
	events, err := jsonText(t.Events, len(t.Events) == 0)
	if err != nil {
		return fmt.Errorf("sqlite: create notification target %s: %w", t.Name, err)
	}
	_, err = c.write.ExecContext(ctx, `INSERT INTO notification_targets (`+targetCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Name, t.Kind, t.VaultName, events, st, created)
	switch {
	case isPrimaryKeyViolation(err):
		return wrapf(err, backup.ErrAlreadyExists, kindTarget, t.Name, "notification target %s already exists", t.Name)
	case err != nil:
		return fmt.Errorf("sqlite: create notification target %s: %w", t.Name, err)
	}
	return nil
}

// GetNotificationTarget returns the target or ErrNotFound.
func (c *Catalog) GetNotificationTarget(ctx context.Context, name string) (*backup.NotificationTarget, error) {
	return getOne(c.read.QueryRowContext(ctx, "SELECT "+targetCols+" FROM notification_targets WHERE name = ?", name),
		scanTarget, kindTarget, name)
}

// ListNotificationTargets returns every stored target by name.
func (c *Catalog) ListNotificationTargets(ctx context.Context) ([]*backup.NotificationTarget, error) {
	rows, err := c.read.QueryContext(ctx, "SELECT "+targetCols+" FROM notification_targets ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("sqlite: list notification targets: %w", err)
	}
	defer rows.Close()
	var out []*backup.NotificationTarget
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list notification targets: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list notification targets: %w", err)
	}
	return out, nil
}

// DeleteNotificationTarget removes the target; ErrNotFound if absent.
func (c *Catalog) DeleteNotificationTarget(ctx context.Context, name string) error {
	res, err := c.write.ExecContext(ctx, "DELETE FROM notification_targets WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("sqlite: delete notification target %s: %w", name, err)
	}
	return affectedOne(res, kindTarget, name)
}
