package awsapi

import (
	"context"

	"github.com/cairn-backup/cairn/internal/backup"
)

// fakeAudit holds the canned answers of the protected-resource and
// framework operations.
type fakeAudit struct {
	resource   *backup.ProtectedResource
	framework  *backup.Framework
	frameworks []*backup.Framework
	evaluation *backup.FrameworkEvaluation
}

func (f *fakeService) DescribeProtectedResource(_ context.Context, arn string) (*backup.ProtectedResource, error) {
	if err := f.record("DescribeProtectedResource", arn); err != nil {
		return nil, err
	}
	return f.audit.resource, nil
}

// vaultPage is the input of ListProtectedResourcesByVault.
type vaultPage struct {
	Vault string
	Page  backup.Page
}

func (f *fakeService) ListProtectedResourcesByVault(_ context.Context, vault string, p backup.Page) ([]*backup.ProtectedResource, string, error) {
	if err := f.record("ListProtectedResourcesByVault", vaultPage{vault, p}); err != nil {
		return nil, "", err
	}
	r, next := pageOf(f.resources, p)
	return r, next, nil
}

func (f *fakeService) CreateFramework(_ context.Context, in backup.CreateFrameworkInput) (*backup.Framework, error) {
	if err := f.record("CreateFramework", in); err != nil {
		return nil, err
	}
	return f.audit.framework, nil
}

func (f *fakeService) GetFramework(_ context.Context, name string) (*backup.Framework, error) {
	if err := f.record("GetFramework", name); err != nil {
		return nil, err
	}
	return f.audit.framework, nil
}

func (f *fakeService) ListFrameworks(_ context.Context, p backup.Page) ([]*backup.Framework, string, error) {
	if err := f.record("ListFrameworks", p); err != nil {
		return nil, "", err
	}
	r, next := pageOf(f.audit.frameworks, p)
	return r, next, nil
}

func (f *fakeService) UpdateFramework(_ context.Context, in backup.UpdateFrameworkInput) (*backup.Framework, error) {
	if err := f.record("UpdateFramework", in); err != nil {
		return nil, err
	}
	return f.audit.framework, nil
}

func (f *fakeService) DeleteFramework(_ context.Context, name string) error {
	return f.record("DeleteFramework", name)
}

func (f *fakeService) EvaluateFramework(_ context.Context, name string) (*backup.FrameworkEvaluation, error) {
	if err := f.record("EvaluateFramework", name); err != nil {
		return nil, err
	}
	return f.audit.evaluation, nil
}
