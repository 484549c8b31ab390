package runner

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Temporary while issue 3 is being built; each is replaced by its real
// implementation.
var errTODO = errors.New("not implemented yet")

var _ = time.Time{}

func (s *Service) StartCopyJob(ctx context.Context, in backup.StartCopyJobInput) (*backup.CopyJob, error) {
	return nil, errTODO
}
func (s *Service) GetCopyJob(ctx context.Context, id string) (*backup.CopyJob, error) {
	return nil, errTODO
}
func (s *Service) ListCopyJobs(ctx context.Context, f backup.CopyJobFilter) ([]*backup.CopyJob, string, error) {
	return nil, "", errTODO
}
func (s *Service) UpdateRecoveryPointLifecycle(ctx context.Context, vault, arn string, l backup.Lifecycle) (*backup.RecoveryPoint, error) {
	return nil, errTODO
}

// afterBackup runs when a backup job has completed its recovery point: it
// starts the copies the plan rule asks for (CopyActions). Temporary.
func (s *Service) afterBackup(ctx context.Context, job *backup.BackupJob, rp *backup.RecoveryPoint) {}

// LifecycleTick moves due recovery points to cold storage and deletes
// expired ones. Temporary.
func (s *Service) LifecycleTick(ctx context.Context) error { return nil }

// recoverLifecycle finishes lifecycle transitions a killed process left
// half done. Temporary.
func (s *Service) recoverLifecycle(ctx context.Context) error { return nil }
