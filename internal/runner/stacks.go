package runner

import (
	"context"
	"sync"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/cfn"
)

// stackMu serialises stack operations: an apply reads a stack record,
// changes resources and writes the record back, and two at once would
// lose each other's steps. Applies are rare, so one lock for the process
// is enough.
var stackMu sync.Mutex

// stacks returns the CloudFormation engine working on this service and its
// catalog.
func (s *Service) stacks() *cfn.Stacks {
	return &cfn.Stacks{Backend: s, Store: s.cfg.Catalog, Env: cfn.Env{Region: s.cfg.Region, AccountID: s.cfg.AccountID}, Now: s.now}
}

// ApplyStack creates or updates the vaults, plans and selections of a
// CloudFormation template (see package cfn).
func (s *Service) ApplyStack(ctx context.Context, in backup.ApplyStackInput) (*backup.StackResult, error) {
	stackMu.Lock()
	defer stackMu.Unlock()
	res, err := s.stacks().Apply(ctx, in)
	if err == nil {
		s.log.Info("stack applied", "stack", in.StackName, "changes", len(res.Changes))
	}
	return res, err
}

// DeleteStack removes what a stack created, then its record. A resource
// that cannot be deleted stays in the record; the error names it and the
// result says what was deleted.
func (s *Service) DeleteStack(ctx context.Context, name string) (*backup.StackResult, error) {
	stackMu.Lock()
	defer stackMu.Unlock()
	res, err := s.stacks().Delete(ctx, name)
	if err == nil {
		s.log.Info("stack deleted", "stack", name)
	}
	return res, err
}

// GetStack returns the record of a stack.
func (s *Service) GetStack(ctx context.Context, name string) (*backup.Stack, error) {
	return s.stacks().GetStack(ctx, name)
}
