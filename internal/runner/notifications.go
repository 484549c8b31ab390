package runner

import (
	"context"
	"slices"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Vault notifications (AWS Backup's Put/Get/DeleteBackupVaultNotifications)
// are stored in the catalog; events reach them through the outbox, which
// the catalog fills as jobs change and internal/notify empties.

// Notifier sends a test event to a vault's targets at once
// (notify.Sender.Test).
type Notifier interface {
	Test(ctx context.Context, ev backup.Event) ([]*backup.Delivery, error)
}

// PutBackupVaultNotifications implements backup.NotificationService.
func (s *Service) PutBackupVaultNotifications(ctx context.Context, vault, topicARN string, events []string) error {
	if err := backup.ValidateVaultNotifications(topicARN, events); err != nil {
		return err
	}
	v, err := s.GetVault(ctx, vault)
	if err != nil {
		return err
	}
	n := &backup.VaultNotifications{VaultName: v.Name, VaultARN: v.ARN, SNSTopicARN: topicARN}
	for _, e := range events {
		if !slices.Contains(n.Events, backup.EventType(e)) {
			n.Events = append(n.Events, backup.EventType(e))
		}
	}
	return s.cfg.Catalog.PutVaultNotifications(ctx, n)
}

// GetBackupVaultNotifications implements backup.NotificationService.
func (s *Service) GetBackupVaultNotifications(ctx context.Context, vault string) (*backup.VaultNotifications, error) {
	if _, err := s.GetVault(ctx, vault); err != nil {
		return nil, err
	}
	n, err := s.cfg.Catalog.GetVaultNotifications(ctx, vault)
	if backup.IsNotFound(err) {
		e := backup.Errorf(backup.ErrNotFound, "backup vault %s has no notification configuration", vault)
		e.Type, e.Context = "BackupVaultNotifications", vault
		return nil, e
	}
	return n, err
}

// DeleteBackupVaultNotifications implements backup.NotificationService.
func (s *Service) DeleteBackupVaultNotifications(ctx context.Context, vault string) error {
	if _, err := s.GetVault(ctx, vault); err != nil {
		return err
	}
	if err := s.cfg.Catalog.DeleteVaultNotifications(ctx, vault); err != nil && !backup.IsNotFound(err) {
		return err
	}
	return nil
}

// TestNotification implements backup.NotificationService.
func (s *Service) TestNotification(ctx context.Context, vault string) ([]*backup.Delivery, error) {
	v, err := s.GetVault(ctx, vault)
	if err != nil {
		return nil, err
	}
	if s.cfg.Notifier == nil {
		return nil, backup.Errorf(backup.ErrUnavailable, "this server does not send notifications")
	}
	return s.cfg.Notifier.Test(ctx, backup.Event{Type: backup.EventTest, Time: s.now(),
		AccountID: v.AccountID, Region: v.Region, VaultName: v.Name, VaultARN: v.ARN})
}

// ListDeliveries implements backup.NotificationService.
func (s *Service) ListDeliveries(ctx context.Context, f backup.DeliveryFilter) ([]*backup.Delivery, string, error) {
	if f.Status != "" && f.Status != backup.DeliveryPending && f.Status != backup.DeliveryDelivered && f.Status != backup.DeliveryUndeliverable {
		return nil, "", backup.Errorf(backup.ErrInvalidParameter, "status %q is not PENDING, DELIVERED or UNDELIVERABLE", f.Status)
	}
	return s.cfg.Catalog.ListDeliveries(ctx, f)
}
