package runner

import (
	"context"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Report plans and report jobs are internal/report's; the runner hands
// them on (Config.Reports), so that backup.Service stays one interface.
// Without Reports they are unavailable.

func (s *Service) reports() (backup.ReportService, error) {
	if s.cfg.Reports == nil {
		return nil, backup.Errorf(backup.ErrUnavailable, "this server does not run report plans")
	}
	return s.cfg.Reports, nil
}

// CreateReportPlan implements backup.ReportService.
func (s *Service) CreateReportPlan(ctx context.Context, in backup.CreateReportPlanInput) (*backup.ReportPlan, error) {
	r, err := s.reports()
	if err != nil {
		return nil, err
	}
	return r.CreateReportPlan(ctx, in)
}

// DescribeReportPlan implements backup.ReportService.
func (s *Service) DescribeReportPlan(ctx context.Context, name string) (*backup.ReportPlan, error) {
	r, err := s.reports()
	if err != nil {
		return nil, err
	}
	return r.DescribeReportPlan(ctx, name)
}

// ListReportPlans implements backup.ReportService.
func (s *Service) ListReportPlans(ctx context.Context, p backup.Page) ([]*backup.ReportPlan, string, error) {
	r, err := s.reports()
	if err != nil {
		return nil, "", err
	}
	return r.ListReportPlans(ctx, p)
}

// UpdateReportPlan implements backup.ReportService.
func (s *Service) UpdateReportPlan(ctx context.Context, in backup.UpdateReportPlanInput) (*backup.ReportPlan, error) {
	r, err := s.reports()
	if err != nil {
		return nil, err
	}
	return r.UpdateReportPlan(ctx, in)
}

// DeleteReportPlan implements backup.ReportService.
func (s *Service) DeleteReportPlan(ctx context.Context, name string) error {
	r, err := s.reports()
	if err != nil {
		return err
	}
	return r.DeleteReportPlan(ctx, name)
}

// StartReportJob implements backup.ReportService.
func (s *Service) StartReportJob(ctx context.Context, plan, token string) (*backup.ReportJob, error) {
	r, err := s.reports()
	if err != nil {
		return nil, err
	}
	return r.StartReportJob(ctx, plan, token)
}

// GetReportJob implements backup.ReportService.
func (s *Service) GetReportJob(ctx context.Context, id string) (*backup.ReportJob, error) {
	r, err := s.reports()
	if err != nil {
		return nil, err
	}
	return r.GetReportJob(ctx, id)
}

// ListReportJobs implements backup.ReportService.
func (s *Service) ListReportJobs(ctx context.Context, plan string, f backup.ReportJobFilter) ([]*backup.ReportJob, string, error) {
	r, err := s.reports()
	if err != nil {
		return nil, "", err
	}
	return r.ListReportJobs(ctx, plan, f)
}
