package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// fromLifecycle validates the lifecycle of a request, the member named
// name, and returns it.
func fromLifecycle(name string, l *lifecycle) (backup.Lifecycle, error) {
	if l == nil {
		return backup.Lifecycle{}, nil
	}
	var d backup.Lifecycle
	if l.MoveToColdStorageAfterDays != nil {
		d.MoveToColdStorageAfterDays = *l.MoveToColdStorageAfterDays
	}
	if l.DeleteAfterDays != nil {
		d.DeleteAfterDays = *l.DeleteAfterDays
	}
	switch {
	case l.DeleteAfterEvent != "":
		return d, invalidParam("%s.DeleteAfterEvent %q is not supported; use DeleteAfterDays", name, l.DeleteAfterEvent)
	case d.MoveToColdStorageAfterDays < 0 || d.DeleteAfterDays < 0:
		return d, invalidParam("%s days must not be negative", name)
	case d.MoveToColdStorageAfterDays > backup.MaxLifecycleDays || d.DeleteAfterDays > backup.MaxLifecycleDays:
		return d, invalidParam("%s days must be at most %d (100 years)", name, backup.MaxLifecycleDays)
	case d.MoveToColdStorageAfterDays > 0 && d.DeleteAfterDays > 0 &&
		d.DeleteAfterDays < d.MoveToColdStorageAfterDays+backup.MinColdStorageDays:
		return d, invalidParam("%s.DeleteAfterDays (%d) must be at least %d days after MoveToColdStorageAfterDays (%d): raise it to %d or more",
			name, d.DeleteAfterDays, backup.MinColdStorageDays, d.MoveToColdStorageAfterDays, d.MoveToColdStorageAfterDays+backup.MinColdStorageDays)
	}
	return d, nil
}

func (s *Server) startBackupJob(q *request) (any, error) {
	var in startBackupJobInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := required(
		member{"BackupVaultName", in.BackupVaultName},
		member{"ResourceArn", in.ResourceArn},
		member{"IamRoleArn", in.IamRoleArn},
	); err != nil {
		return nil, err
	}
	switch {
	case in.LogicallyAirGappedBackupVaultArn != "":
		return nil, invalidParam("LogicallyAirGappedBackupVaultArn is not supported")
	case in.Index != "" && in.Index != "DISABLED":
		return nil, invalidParam("Index %q is not supported", in.Index)
	}
	// The windows as given: an explicit 0 is refused, as in a plan rule.
	if _, _, err := backup.ValidateWindows("StartWindowMinutes", in.StartWindowMinutes, "CompleteWindowMinutes", in.CompleteWindowMinutes); err != nil {
		return nil, err
	}
	lc, err := fromLifecycle("Lifecycle", in.Lifecycle)
	if err != nil {
		return nil, err
	}
	opts, err := fromBackupOptions(in.BackupOptions)
	if err != nil {
		return nil, err
	}
	din := backup.StartBackupJobInput{
		VaultName:         *in.BackupVaultName,
		ResourceARN:       *in.ResourceArn,
		IAMRoleARN:        *in.IamRoleArn,
		IdempotencyToken:  in.IdempotencyToken,
		Lifecycle:         lc,
		RecoveryPointTags: in.RecoveryPointTags,
		Options:           opts,
	}
	if in.StartWindowMinutes != nil {
		din.StartWindowMins = *in.StartWindowMinutes
	}
	if in.CompleteWindowMinutes != nil {
		din.CompleteWindowMin = *in.CompleteWindowMinutes
	}
	// The rules of a plan rule, in the one place they are written.
	if err := backup.ValidateStartBackupJob(&din); err != nil {
		return nil, err
	}
	j, err := s.svc.StartBackupJob(q.ctx(), din)
	if err != nil {
		return nil, err
	}
	return startBackupJobOutput{BackupJobId: j.ID, RecoveryPointArn: j.RecoveryPointARN, CreationDate: epoch(j.CreationDate)}, nil
}

func (s *Server) describeBackupJob(q *request) (any, error) {
	j, err := s.svc.GetBackupJob(q.ctx(), q.path("backupJobId"))
	if err != nil {
		return nil, err
	}
	return toBackupJob(j), nil
}

func (s *Server) listBackupJobs(q *request) (any, error) {
	f := backup.BackupJobFilter{
		Page:           q.page(),
		ResourceARN:    q.arn("resourceArn"),
		ResourceType:   q.pattern("resourceType", resourceTypePattern),
		VaultName:      q.str("backupVaultName"),
		AccountID:      q.pattern("accountId", accountIDPattern),
		CreatedAfter:   q.timestamp("createdAfter"),
		CreatedBefore:  q.timestamp("createdBefore"),
		CompleteAfter:  q.timestamp("completeAfter"),
		CompleteBefore: q.timestamp("completeBefore"),
	}
	if state := q.str("state"); state != "" {
		if !backup.ValidJobState(state) {
			q.fail(invalidParam("state %q is not a backup job state", state))
		}
		f.States = []backup.JobState{backup.JobState(state)}
	}
	if f.VaultName != "" {
		if err := backup.ValidateVaultName(f.VaultName); err != nil {
			q.fail(err)
		}
	}
	parent := q.str("parentJobId")
	if c := q.str("messageCategory"); c != "" {
		q.fail(invalidParam("messageCategory is not supported"))
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	out := listBackupJobsOutput{BackupJobs: []backupJob{}}
	if parent != "" {
		// cairn's jobs have no child jobs.
		return out, nil
	}
	jobs, next, err := s.svc.ListBackupJobs(q.ctx(), f)
	if err != nil {
		return nil, err
	}
	for _, j := range jobs {
		out.BackupJobs = append(out.BackupJobs, toBackupJob(j))
	}
	out.NextToken = next
	return out, nil
}

func (s *Server) stopBackupJob(q *request) (any, error) {
	return nil, s.svc.StopBackupJob(q.ctx(), q.path("backupJobId"))
}
