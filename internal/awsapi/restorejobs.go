package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

func (s *Server) startRestoreJob(q *request) (any, error) {
	var in startRestoreJobInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := required(member{"RecoveryPointArn", in.RecoveryPointArn}); err != nil {
		return nil, err
	}
	if in.Metadata == nil {
		return nil, missingParam("Metadata")
	}
	if _, err := backup.ParseRecoveryPointARN(*in.RecoveryPointArn); err != nil {
		return nil, err
	}
	if in.ResourceType != "" && !resourceTypePattern.MatchString(in.ResourceType) {
		return nil, invalidParam("ResourceType %q does not match the pattern %s", in.ResourceType, resourceTypePattern)
	}
	if in.IamRoleArn != "" {
		if err := checkRoleARN(in.IamRoleArn); err != nil {
			return nil, err
		}
	}
	if in.ResourceType == "" || in.ResourceType == backup.ResourceTypeDynamoDB {
		// AWS documents targetTableName; its CLI examples spell it
		// TargetTableName. Keys are not case sensitive: either names the table.
		name, _ := backup.MetadataValue(in.Metadata, backup.MetaTargetTableName)
		if name == "" {
			return nil, missingParam("Metadata." + backup.MetaTargetTableName)
		}
		if err := backup.ValidateTableName(name); err != nil {
			return nil, err
		}
	}
	j, err := s.svc.StartRestoreJob(q.ctx(), backup.StartRestoreJobInput{
		RecoveryPointARN: *in.RecoveryPointArn,
		Metadata:         in.Metadata,
		IAMRoleARN:       in.IamRoleArn,
		IdempotencyToken: in.IdempotencyToken,
		ResourceType:     in.ResourceType,
		CopySourceTags:   in.CopySourceTagsToRestoredResource,
	})
	if err != nil {
		return nil, err
	}
	return startRestoreJobOutput{RestoreJobId: j.ID}, nil
}

func (s *Server) describeRestoreJob(q *request) (any, error) {
	j, err := s.svc.GetRestoreJob(q.ctx(), q.path("restoreJobId"))
	if err != nil {
		return nil, err
	}
	return toRestoreJob(j), nil
}

func (s *Server) listRestoreJobs(q *request) (any, error) {
	f := backup.RestoreJobFilter{
		Page:           q.page(),
		AccountID:      q.pattern("accountId", accountIDPattern),
		ResourceType:   q.pattern("resourceType", resourceTypePattern),
		CreatedAfter:   q.timestamp("createdAfter"),
		CreatedBefore:  q.timestamp("createdBefore"),
		CompleteAfter:  q.timestamp("completeAfter"),
		CompleteBefore: q.timestamp("completeBefore"),
	}
	if status := q.str("status"); status != "" {
		if !backup.ValidRestoreJobStatus(status) {
			q.fail(invalidParam("status %q is not a restore job status", status))
		}
		f.Statuses = []backup.RestoreJobStatus{backup.RestoreJobStatus(status)}
	}
	testingPlan := q.arn("restoreTestingPlanArn")
	parent := q.str("parentJobId")
	if err := q.err(); err != nil {
		return nil, err
	}
	out := listRestoreJobsOutput{RestoreJobs: []restoreJob{}}
	if testingPlan != "" || parent != "" {
		// cairn has no restore testing plans and no parent restore jobs.
		return out, nil
	}
	jobs, next, err := s.svc.ListRestoreJobs(q.ctx(), f)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		out.RestoreJobs = append(out.RestoreJobs, toRestoreJob(j))
	}
	out.NextToken = next
	return out, nil
}
