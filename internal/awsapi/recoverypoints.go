package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// pointRef reads and validates the vault name and recovery point ARN of a
// path, and the optional backupVaultAccountId.
func (s *Server) pointRef(q *request) (vault, arn string, err error) {
	vault, arn = q.path("backupVaultName"), q.path("recoveryPointArn")
	if err := checkVaultName(vault); err != nil {
		return "", "", err
	}
	if arn == "" {
		return "", "", missingParam("RecoveryPointArn")
	}
	if _, err := backup.ParseRecoveryPointARN(arn); err != nil {
		return "", "", err
	}
	if err := s.checkAccount(q, "backupVaultAccountId", "RecoveryPoint", arn); err != nil {
		return "", "", err
	}
	return vault, arn, nil
}

func (s *Server) listRecoveryPointsByBackupVault(q *request) (any, error) {
	vault := q.path("backupVaultName")
	if err := checkVaultName(vault); err != nil {
		return nil, err
	}
	f := backup.RecoveryPointFilter{
		Page:          q.page(),
		VaultName:     vault,
		ResourceARN:   q.arn("resourceArn"),
		ResourceType:  q.pattern("resourceType", resourceTypePattern),
		BackupPlanID:  q.str("backupPlanId"),
		CreatedAfter:  q.timestamp("createdAfter"),
		CreatedBefore: q.timestamp("createdBefore"),
	}
	parent := q.arn("parentRecoveryPointArn")
	if err := q.err(); err != nil {
		return nil, err
	}
	if err := s.checkAccount(q, "backupVaultAccountId", "BackupVault", vault); err != nil {
		return nil, err
	}
	out := listRecoveryPointsByBackupVaultOutput{RecoveryPoints: []recoveryPoint{}}
	if parent != "" {
		// cairn's recovery points are never composite.
		return out, nil
	}
	points, next, err := s.svc.ListRecoveryPoints(q.ctx(), f)
	if err != nil {
		return nil, err
	}
	for _, p := range points {
		out.RecoveryPoints = append(out.RecoveryPoints, toRecoveryPoint(p, false))
	}
	out.NextToken = next
	return out, nil
}

func (s *Server) listRecoveryPointsByResource(q *request) (any, error) {
	arn := q.path("resourceArn")
	if arn == "" {
		return nil, missingParam("ResourceArn")
	}
	if _, err := backup.ParseARN(arn); err != nil {
		return nil, err
	}
	page := q.page()
	_ = q.boolean("managedByAWSBackupOnly") // every cairn point is managed by cairn
	if err := q.err(); err != nil {
		return nil, err
	}
	points, next, err := s.svc.ListRecoveryPoints(q.ctx(), backup.RecoveryPointFilter{Page: page, ResourceARN: arn})
	if err != nil {
		return nil, err
	}
	out := listRecoveryPointsByResourceOutput{RecoveryPoints: []recoveryPointByResource{}, NextToken: next}
	for _, p := range points {
		out.RecoveryPoints = append(out.RecoveryPoints, toRecoveryPointByResource(p))
	}
	return out, nil
}

func (s *Server) describeRecoveryPoint(q *request) (any, error) {
	vault, arn, err := s.pointRef(q)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.GetRecoveryPoint(q.ctx(), vault, arn)
	if err != nil {
		return nil, err
	}
	return toRecoveryPoint(p, true), nil
}

func (s *Server) deleteRecoveryPoint(q *request) (any, error) {
	vault, arn, err := s.pointRef(q)
	if err != nil {
		return nil, err
	}
	return nil, s.svc.DeleteRecoveryPoint(q.ctx(), vault, arn)
}

func (s *Server) updateRecoveryPointLifecycle(q *request) (any, error) {
	vault, arn, err := s.pointRef(q)
	if err != nil {
		return nil, err
	}
	var in updateRecoveryPointLifecycleInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	// AWS treats a missing Lifecycle as none at all; cairn asks for it, so
	// that a bare request cannot remove a point's retention by accident.
	if in.Lifecycle == nil {
		return nil, &backup.Error{Code: backup.ErrMissingParameter, Type: "Parameter", Context: "Lifecycle",
			Message: "Missing required parameter Lifecycle; send {} to remove the recovery point's lifecycle"}
	}
	lc, err := fromLifecycle("Lifecycle", in.Lifecycle)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.UpdateRecoveryPointLifecycle(q.ctx(), vault, arn, lc)
	if err != nil {
		return nil, err
	}
	return updateRecoveryPointLifecycleOutput{
		BackupVaultArn:      p.VaultARN,
		RecoveryPointArn:    p.ARN,
		Lifecycle:           toLifecycle(p.Lifecycle),
		CalculatedLifecycle: toCalculatedLifecycle(p),
	}, nil
}

func (s *Server) getRecoveryPointRestoreMetadata(q *request) (any, error) {
	vault, arn, err := s.pointRef(q)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.GetRecoveryPoint(q.ctx(), vault, arn)
	if err != nil {
		return nil, err
	}
	md := p.RestoreMetadata
	if md == nil {
		md = map[string]string{}
	}
	return getRecoveryPointRestoreMetadataOutput{
		BackupVaultArn:   p.VaultARN,
		RecoveryPointArn: p.ARN,
		RestoreMetadata:  md,
		ResourceType:     p.ResourceType,
	}, nil
}

func (s *Server) listProtectedResources(q *request) (any, error) {
	page := q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	res, next, err := s.svc.ListProtectedResources(q.ctx(), page)
	if err != nil {
		return nil, err
	}
	out := listProtectedResourcesOutput{Results: []protectedResource{}, NextToken: next}
	for _, r := range res {
		out.Results = append(out.Results, toProtectedResource(r))
	}
	return out, nil
}
