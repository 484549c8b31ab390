package sqlite

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

func (c *Catalog) CreateBackupPlan(ctx context.Context, p *backup.BackupPlan) error { return errTODO }
func (c *Catalog) GetBackupPlan(ctx context.Context, id, versionID string) (*backup.BackupPlan, error) {
	return nil, errTODO
}
func (c *Catalog) ListBackupPlans(ctx context.Context, f backup.BackupPlanFilter) (plans []*backup.BackupPlan, next string, err error) {
	return nil, "", errTODO
}
func (c *Catalog) ListBackupPlanVersions(ctx context.Context, id string, p backup.Page) (versions []*backup.BackupPlan, next string, err error) {
	return nil, "", errTODO
}
func (c *Catalog) UpdateBackupPlan(ctx context.Context, p *backup.BackupPlan) error { return errTODO }
func (c *Catalog) SetPlanLastExecution(ctx context.Context, id string, at time.Time) error {
	return errTODO
}
func (c *Catalog) DeleteBackupPlan(ctx context.Context, id string, at time.Time) (*backup.BackupPlan, error) {
	return nil, errTODO
}
func (c *Catalog) CreateBackupSelection(ctx context.Context, s *backup.BackupSelection) error {
	return errTODO
}
func (c *Catalog) GetBackupSelection(ctx context.Context, planID, selectionID string) (*backup.BackupSelection, error) {
	return nil, errTODO
}
func (c *Catalog) ListBackupSelections(ctx context.Context, planID string, p backup.Page) (sels []*backup.BackupSelection, next string, err error) {
	return nil, "", errTODO
}
func (c *Catalog) DeleteBackupSelection(ctx context.Context, planID, selectionID string) error {
	return errTODO
}
func (c *Catalog) RuleCursor(ctx context.Context, planID, ruleID string) (time.Time, error) {
	return time.Time{}, errTODO
}
func (c *Catalog) SetRuleCursor(ctx context.Context, planID, ruleID string, at time.Time) error {
	return errTODO
}
func (c *Catalog) CreateCopyJob(ctx context.Context, j *backup.CopyJob) error { return errTODO }
func (c *Catalog) GetCopyJob(ctx context.Context, id string) (*backup.CopyJob, error) {
	return nil, errTODO
}
func (c *Catalog) UpdateCopyJob(ctx context.Context, j *backup.CopyJob) error { return errTODO }
func (c *Catalog) ListCopyJobs(ctx context.Context, f backup.CopyJobFilter) (jobs []*backup.CopyJob, next string, err error) {
	return nil, "", errTODO
}
func (c *Catalog) PutStack(ctx context.Context, s *backup.Stack) error { return errTODO }
func (c *Catalog) GetStack(ctx context.Context, name string) (*backup.Stack, error) {
	return nil, errTODO
}
func (c *Catalog) DeleteStack(ctx context.Context, name string) error { return errTODO }
func (c *Catalog) ListStacks(ctx context.Context, p backup.Page) (stacks []*backup.Stack, next string, err error) {
	return nil, "", errTODO
}
