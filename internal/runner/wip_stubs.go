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

func (s *Service) ApplyStack(ctx context.Context, in backup.ApplyStackInput) (*backup.StackResult, error) {
	return nil, errTODO
}
func (s *Service) DeleteStack(ctx context.Context, name string) (*backup.StackResult, error) {
	return nil, errTODO
}
func (s *Service) GetStack(ctx context.Context, name string) (*backup.Stack, error) {
	return nil, errTODO
}
