package runner

import (
	"context"
	"fmt"
	"maps"
	"reflect"

	"github.com/cairn-backup/cairn/internal/audit"
	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/google/uuid"
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

// DescribeProtectedResource returns a resource with its latest COMPLETED
// recovery point.
func (s *Service) DescribeProtectedResource(ctx context.Context, resourceARN string) (*backup.ProtectedResource, error) {
	return s.cfg.Catalog.GetProtectedResource(ctx, resourceARN)
}

// ListProtectedResourcesByVault lists the resources a vault protects.
func (s *Service) ListProtectedResourcesByVault(ctx context.Context, vault string, p backup.Page) ([]*backup.ProtectedResource, string, error) {
	if _, err := s.cfg.Catalog.GetVault(ctx, vault); err != nil {
		return nil, "", err
	}
	return s.cfg.Catalog.ListProtectedResourcesByVault(ctx, vault, p)
}

// CreateFramework validates and stores a framework. It is deployed at once:
// DeploymentStatus COMPLETED, FrameworkStatus ACTIVE.
func (s *Service) CreateFramework(ctx context.Context, in backup.CreateFrameworkInput) (*backup.Framework, error) {
	if err := backup.ValidateFrameworkName(in.Name); err != nil {
		return nil, err
	}
	if err := backup.ValidateFrameworkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := backup.ValidateFrameworkControls(in.Controls); err != nil {
		return nil, err
	}
	if err := backup.ValidateTags("FrameworkTags", in.Tags); err != nil {
		return nil, err
	}
	f := &backup.Framework{
		Name:             in.Name,
		ARN:              fmt.Sprintf("arn:aws:backup:%s:%s:framework:%s-%s", s.cfg.Region, s.cfg.AccountID, in.Name, uuid.NewString()),
		Description:      in.Description,
		Controls:         backup.CloneControls(in.Controls),
		CreationTime:     s.now(),
		DeploymentStatus: backup.DeploymentCompleted,
		FrameworkStatus:  backup.FrameworkActive,
		IdempotencyToken: in.IdempotencyToken,
		Tags:             maps.Clone(in.Tags),
		AccountID:        s.cfg.AccountID,
		Region:           s.cfg.Region,
	}
	err := s.cfg.Catalog.CreateFramework(ctx, f)
	if backup.ErrorCode(err) == backup.ErrAlreadyExists && in.IdempotencyToken != "" {
		old, gerr := s.cfg.Catalog.GetFramework(ctx, in.Name)
		if gerr == nil && old.IdempotencyToken == in.IdempotencyToken {
			if old.Description == f.Description && reflect.DeepEqual(old.Controls, f.Controls) && maps.Equal(old.Tags, f.Tags) {
				return old, nil // a retry of the request that created it
			}
			return nil, &backup.Error{Code: backup.ErrAlreadyExists, Type: "Framework", Context: in.Name,
				Message: fmt.Sprintf("framework %s was created with IdempotencyToken %q and other parameters; "+
					"use UpdateFramework to change it", in.Name, in.IdempotencyToken)}
		}
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("framework created", "framework", f.Name, "controls", len(f.Controls))
	return f, nil
}

// GetFramework returns a framework.
func (s *Service) GetFramework(ctx context.Context, name string) (*backup.Framework, error) {
	return s.cfg.Catalog.GetFramework(ctx, name)
}

// ListFrameworks lists frameworks by name.
func (s *Service) ListFrameworks(ctx context.Context, p backup.Page) ([]*backup.Framework, string, error) {
	return s.cfg.Catalog.ListFrameworks(ctx, p)
}

// UpdateFramework changes a framework's description and controls. A retry
// (the IdempotencyToken the framework was last changed with) changes
// nothing; that token with other parameters is a ConflictException.
func (s *Service) UpdateFramework(ctx context.Context, in backup.UpdateFrameworkInput) (*backup.Framework, error) {
	if err := backup.ValidateFrameworkName(in.Name); err != nil {
		return nil, err
	}
	if in.Description != nil {
		if err := backup.ValidateFrameworkDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if in.Controls != nil {
		if err := backup.ValidateFrameworkControls(in.Controls); err != nil {
			return nil, err
		}
	}
	old, err := s.cfg.Catalog.GetFramework(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	f := backup.CloneFramework(old)
	if in.Description != nil {
		f.Description = *in.Description
	}
	if in.Controls != nil {
		f.Controls = backup.CloneControls(in.Controls)
	}
	if in.IdempotencyToken != "" && in.IdempotencyToken == old.IdempotencyToken {
		if f.Description == old.Description && reflect.DeepEqual(f.Controls, old.Controls) {
			return old, nil
		}
		return nil, &backup.Error{Code: backup.ErrConflict, Type: "Framework", Context: in.Name,
			Message: fmt.Sprintf("IdempotencyToken %q was used for another change of framework %s; use a new token", in.IdempotencyToken, in.Name)}
	}
	f.IdempotencyToken = in.IdempotencyToken
	f.DeploymentStatus, f.FrameworkStatus = backup.DeploymentCompleted, backup.FrameworkActive
	if err := s.cfg.Catalog.UpdateFramework(ctx, f); err != nil {
		return nil, err
	}
	s.log.Info("framework updated", "framework", f.Name, "controls", len(f.Controls))
	return f, nil
}

// DeleteFramework removes a framework.
func (s *Service) DeleteFramework(ctx context.Context, name string) error {
	if err := s.cfg.Catalog.DeleteFramework(ctx, name); err != nil {
		return err
	}
	s.log.Info("framework deleted", "framework", name)
	return nil
}
