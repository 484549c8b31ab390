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
