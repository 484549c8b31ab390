package runner

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/vault"
)

// GetRecoveryPoint returns a recovery point of a vault.
func (s *Service) GetRecoveryPoint(ctx context.Context, vaultName, arn string) (*backup.RecoveryPoint, error) {
	if _, err := s.GetVault(ctx, vaultName); err != nil {
		return nil, err
	}
	id, err := backup.ParseRecoveryPointARN(arn)
	if err != nil {
		return nil, err
	}
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if rp.VaultName != vaultName {
		return nil, backup.NotFound("RecoveryPoint", arn)
	}
	return rp, nil
}

// ListRecoveryPoints lists recovery points; a named vault must exist.
func (s *Service) ListRecoveryPoints(ctx context.Context, f backup.RecoveryPointFilter) ([]*backup.RecoveryPoint, string, error) {
	if f.VaultName != "" {
		if _, err := s.GetVault(ctx, f.VaultName); err != nil {
			return nil, "", err
		}
	}
	return s.cfg.Catalog.ListRecoveryPoints(ctx, f)
}

// DeleteRecoveryPoint removes a recovery point: DELETING in the catalog,
// then its data (summary first, so it can never look complete again), then
// the catalog entry. If the data cannot be removed now (its vault cannot be
// reached) the call succeeds all the same, as AWS's asynchronous deletion
// does: the point stays DELETING, can no longer be restored or copied, and
// the background retry (RetryDeletes) finishes the deletion. A crash in
// between leaves a DELETING point that Recover finishes deleting.
func (s *Service) DeleteRecoveryPoint(ctx context.Context, vaultName, arn string) error {
	rp, err := s.GetRecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return err
	}
	if rp.Status == backup.RecoveryPointCreating {
		if rp.BackupJobID == "" {
			return backup.Errorf(backup.ErrInvalidRequest, "recovery point %s is still being copied; wait for its copy job to end", arn)
		}
		return backup.Errorf(backup.ErrInvalidRequest, "recovery point %s is still being created; stop its backup job %s instead", arn, rp.BackupJobID)
	}
	// Keep the lifecycle worker off the point while it is deleted; one
	// moving it now must finish first.
	done, busy := inUse.tryChange(rp.ID)
	if busy {
		return &backup.Error{Code: backup.ErrConflict, Type: "RecoveryPoint", Context: arn,
			Message: fmt.Sprintf("recovery point %s is being moved to cold storage or expired right now; try again in a moment", arn)}
	}
	defer done()
	rp.Status = backup.RecoveryPointDeleting
	if err := s.cfg.Catalog.UpdateRecoveryPoint(ctx, rp); err != nil {
		return err
	}
	if err := s.purgePoint(ctx, rp); err != nil {
		s.log.Error("cannot delete a recovery point now; it stays DELETING and its deletion is retried in the background",
			"recovery_point", rp.ARN, "vault", rp.VaultName, "retry_every", s.cfg.LifecycleInterval, "err", err)
	}
	return nil
}

// purgePoint removes a point's data, warm and cold, then its catalog entry.
func (s *Service) purgePoint(ctx context.Context, rp *backup.RecoveryPoint) error {
	v, err := s.cfg.Catalog.GetVault(ctx, rp.VaultName)
	if err != nil {
		return err
	}
	store, err := s.store(ctx, v)
	if err != nil {
		return err
	}
	if err := vault.New(store).Delete(ctx, rp.ID); err != nil {
		return fmt.Errorf("delete recovery point data: %w", err)
	}
	// A file vault's point may have a cold copy, complete or cut short.
	cold, err := s.coldStore(ctx, v, false)
	if err != nil {
		return err
	}
	if cold != nil && cold != store {
		if err := vault.New(cold).Delete(ctx, rp.ID); err != nil {
			return fmt.Errorf("delete recovery point data in cold storage: %w", err)
		}
	}
	if err := s.cfg.Catalog.DeleteRecoveryPoint(ctx, rp.ID); err != nil && !backup.IsNotFound(err) {
		return err
	}
	s.log.Info("recovery point deleted", "recovery_point", rp.ARN, "vault", rp.VaultName)
	return nil
}

// ListProtectedResources lists resources that have recovery points.
func (s *Service) ListProtectedResources(ctx context.Context, p backup.Page) ([]*backup.ProtectedResource, string, error) {
	return s.cfg.Catalog.ListProtectedResources(ctx, p)
}
