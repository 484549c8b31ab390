package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

func (s *Server) startCopyJob(q *request) (any, error) {
	var in startCopyJobInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := required(
		member{"RecoveryPointArn", in.RecoveryPointArn},
		member{"SourceBackupVaultName", in.SourceBackupVaultName},
		member{"DestinationBackupVaultArn", in.DestinationBackupVaultArn},
		member{"IamRoleArn", in.IamRoleArn},
	); err != nil {
		return nil, err
	}
	if _, err := backup.ParseRecoveryPointARN(*in.RecoveryPointArn); err != nil {
		return nil, inMember("RecoveryPointArn", err)
	}
	if err := backup.ValidateVaultName(*in.SourceBackupVaultName); err != nil {
		return nil, inMember("SourceBackupVaultName", err)
	}
	if err := checkVaultARN("DestinationBackupVaultArn", *in.DestinationBackupVaultArn); err != nil {
		return nil, err
	}
	if err := checkRoleARN(*in.IamRoleArn); err != nil {
		return nil, inMember("IamRoleArn", err)
	}
	lc, err := fromLifecycle("Lifecycle", in.Lifecycle)
	if err != nil {
		return nil, err
	}
	j, err := s.svc.StartCopyJob(q.ctx(), backup.StartCopyJobInput{
		RecoveryPointARN:          *in.RecoveryPointArn,
		SourceBackupVaultName:     *in.SourceBackupVaultName,
		DestinationBackupVaultARN: *in.DestinationBackupVaultArn,
		IAMRoleARN:                *in.IamRoleArn,
		IdempotencyToken:          in.IdempotencyToken,
		Lifecycle:                 lc,
	})
	if err != nil {
		return nil, err
	}
	return startCopyJobOutput{CopyJobId: j.ID, CreationDate: epoch(j.CreationDate)}, nil
}

func (s *Server) describeCopyJob(q *request) (any, error) {
	id := q.path("copyJobId")
	if err := checkID("CopyJobId", id); err != nil {
		return nil, err
	}
	j, err := s.svc.GetCopyJob(q.ctx(), id)
	if err != nil {
		return nil, err
	}
	return describeCopyJobOutput{CopyJob: toCopyJob(j)}, nil
}

func (s *Server) listCopyJobs(q *request) (any, error) {
	f := backup.CopyJobFilter{
		Page:                      q.page(),
		AccountID:                 q.pattern("accountId", accountIDPattern),
		ResourceARN:               q.arn("resourceArn"),
		ResourceType:              q.pattern("resourceType", resourceTypePattern),
		DestinationBackupVaultARN: q.str("destinationVaultArn"),
		CreatedAfter:              q.timestamp("createdAfter"),
		CreatedBefore:             q.timestamp("createdBefore"),
		CompleteAfter:             q.timestamp("completeAfter"),
		CompleteBefore:            q.timestamp("completeBefore"),
	}
	if state := q.str("state"); state != "" {
		if !backup.ValidCopyJobState(state) {
			q.fail(invalidParam("state %q is not a copy job state (CREATED, RUNNING, COMPLETED, FAILED or PARTIAL)", state))
		}
		f.States = []backup.CopyJobState{backup.CopyJobState(state)}
	}
	if f.DestinationBackupVaultARN != "" {
		if err := checkVaultARN("destinationVaultArn", f.DestinationBackupVaultARN); err != nil {
			q.fail(err)
		}
	}
	parent := q.str("parentJobId")
	if q.str("messageCategory") != "" {
		q.fail(invalidParam("messageCategory is not supported; filter by state instead"))
	}
	if q.str("sourceRecoveryPointArn") != "" {
		q.fail(invalidParam("sourceRecoveryPointArn is not supported; filter by resourceArn and look at each job's SourceRecoveryPointArn"))
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	out := listCopyJobsOutput{CopyJobs: []copyJob{}}
	if parent != "" {
		// cairn's copy jobs have no child jobs.
		return out, nil
	}
	jobs, next, err := s.svc.ListCopyJobs(q.ctx(), f)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		out.CopyJobs = append(out.CopyJobs, toCopyJob(j))
	}
	out.NextToken = next
	return out, nil
}
