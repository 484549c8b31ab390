package runner

import (
	"context"

	"github.com/cairn-backup/cairn/internal/backup"
)

// cairn's own notification targets are internal/notify/targets'; the
// runner hands them on (Config.NotificationTargets), so that
// backup.Service stays one interface. Without it they are unavailable.

func (s *Service) notificationTargets() (backup.NotificationTargetService, error) {
	if s.cfg.NotificationTargets == nil {
		return nil, backup.Errorf(backup.ErrUnavailable, "this server has no notification targets configured")
	}
	return s.cfg.NotificationTargets, nil
}

// CreateNotificationTarget implements backup.NotificationTargetService.
func (s *Service) CreateNotificationTarget(ctx context.Context, t *backup.NotificationTarget) (*backup.TargetView, error) {
	n, err := s.notificationTargets()
	if err != nil {
		return nil, err
	}
	return n.CreateNotificationTarget(ctx, t)
}

// GetNotificationTarget implements backup.NotificationTargetService.
func (s *Service) GetNotificationTarget(ctx context.Context, name string) (*backup.TargetView, error) {
	n, err := s.notificationTargets()
	if err != nil {
		return nil, err
	}
	return n.GetNotificationTarget(ctx, name)
}

// ListNotificationTargets implements backup.NotificationTargetService.
func (s *Service) ListNotificationTargets(ctx context.Context) ([]*backup.TargetView, error) {
	n, err := s.notificationTargets()
	if err != nil {
		return nil, err
	}
	return n.ListNotificationTargets(ctx)
}

// DeleteNotificationTarget implements backup.NotificationTargetService.
func (s *Service) DeleteNotificationTarget(ctx context.Context, name string) error {
	n, err := s.notificationTargets()
	if err != nil {
		return err
	}
	return n.DeleteNotificationTarget(ctx, name)
}
