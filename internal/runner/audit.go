package runner

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/audit"
	"github.com/cairn-backup/cairn/internal/backup"
)

// EvaluateFramework evaluates the stored framework of that name now: per
// control, per resource, COMPLIANT or NON_COMPLIANT with a reason. It is
// what report jobs (CONTROL_COMPLIANCE_REPORT, RESOURCE_COMPLIANCE_REPORT)
// build on. ErrNotFound if there is no such framework.
func (s *Service) EvaluateFramework(ctx context.Context, name string) (*backup.FrameworkEvaluation, error) {
	f, err := s.cfg.Catalog.GetFramework(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.Evaluate(ctx, f)
}

// Evaluate evaluates the controls of f over what cairn holds now: the
// tables of every source with their tags (a source that cannot be listed
// is named in FailedSources, its tables left out), the live plans and
// their selections, the recovery points and the vaults.
func (s *Service) Evaluate(ctx context.Context, f *backup.Framework) (*backup.FrameworkEvaluation, error) {
	in, err := s.auditInputs(ctx, f)
	if err != nil {
		return nil, err
	}
	return audit.Evaluate(f, in), nil
}

// auditInputs reads what f's controls need, and only that: the tables are
// listed only if a control evaluates tables.
func (s *Service) auditInputs(ctx context.Context, f *backup.Framework) (*audit.Inputs, error) {
	in := &audit.Inputs{Now: s.now()}
	need := map[string]bool{}
	for _, c := range f.Controls {
		need[c.Name] = true
	}
	if need[backup.ControlProtectedByBackupPlan] || need[backup.ControlLastRecoveryPointCreated] {
		inv := s.inventory(ctx)
		in.Tables, in.FailedSources = inv.Resources, inv.Failed
	}
	if need[backup.ControlProtectedByBackupPlan] || need[backup.ControlPlanMinFrequencyRetention] {
		plans, err := s.livePlans(ctx)
		if err != nil {
			return nil, err
		}
		in.Plans = plans
	}
	if need[backup.ControlLastRecoveryPointCreated] || need[backup.ControlRecoveryPointMinRetention] {
		f := backup.RecoveryPointFilter{Page: backup.Page{MaxResults: 1000}, Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted}}
		for {
			page, next, err := s.cfg.Catalog.ListRecoveryPoints(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("list recovery points: %w", err)
			}
			in.Points = append(in.Points, page...)
			if next == "" {
				break
			}
			f.NextToken = next
		}
	}
	if need[backup.ControlRecoveryPointManualDeletion] {
		vaults, err := s.allVaults(ctx)
		if err != nil {
			return nil, err
		}
		in.Vaults = vaults
	}
	return in, nil
}
