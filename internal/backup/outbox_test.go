package backup

import (
	"fmt"
	"testing"
	"time"
)

func TestBackupJobEvents(t *testing.T) {
	now := time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)
	job := func(s JobState) *BackupJob { return &BackupJob{ID: "j", VaultName: "v", State: s} }
	tests := []struct {
		name          string
		before, after *BackupJob
		want          string
	}{
		{"created", nil, job(JobCreated), "[]"},
		{"created running", nil, job(JobRunning), "[BACKUP_JOB_STARTED]"},
		{"starts", job(JobPending), job(JobRunning), "[BACKUP_JOB_STARTED]"},
		{"progress", job(JobRunning), job(JobRunning), "[]"},
		{"queued back by a graceful stop", job(JobRunning), job(JobPending), "[]"},
		{"starts again", job(JobPending), job(JobRunning), "[BACKUP_JOB_STARTED]"},
		{"completes", job(JobRunning), job(JobCompleted), "[BACKUP_JOB_COMPLETED BACKUP_JOB_SUCCESSFUL]"},
		{"fails", job(JobRunning), job(JobFailed), "[BACKUP_JOB_COMPLETED BACKUP_JOB_FAILED]"},
		{"stopping", job(JobRunning), job(JobAborting), "[]"},
		{"aborted", job(JobAborting), job(JobAborted), "[BACKUP_JOB_COMPLETED BACKUP_JOB_FAILED]"},
		{"expires before it starts", job(JobCreated), job(JobExpired), "[BACKUP_JOB_COMPLETED BACKUP_JOB_EXPIRED]"},
		{"partial", job(JobRunning), job(JobPartial), "[BACKUP_JOB_COMPLETED]"},
		{"an ended job written again", job(JobFailed), job(JobFailed), "[]"},
		{"created ended", nil, job(JobCompleted), "[BACKUP_JOB_COMPLETED BACKUP_JOB_SUCCESSFUL]"},
	}
	for _, tt := range tests {
		var got []EventType
		for _, ev := range BackupJobEvents(tt.before, tt.after, now) {
			got = append(got, ev.Type)
			if ev.JobID != "j" || ev.VaultName != "v" || ev.JobType != JobTypeBackup || !ev.Time.Equal(now) {
				t.Errorf("%s: event %+v", tt.name, ev)
			}
		}
		if g := fmt.Sprint(got); g != tt.want && !(tt.want == "[]" && got == nil) {
			t.Errorf("%s: %s, want %s", tt.name, g, tt.want)
		}
	}
	// An end is stamped with the job's completion.
	end := job(JobFailed)
	end.CompletionDate = now.Add(time.Minute)
	for _, ev := range BackupJobEvents(job(JobRunning), end, now) {
		if !ev.Time.Equal(end.CompletionDate) {
			t.Errorf("%s at %s, want the completion date", ev.Type, ev.Time)
		}
	}
}

func TestValidateVaultNotifications(t *testing.T) {
	topic := "arn:aws:sns:us-east-1:123456789012:alerts"
	for _, tt := range []struct {
		topic  string
		events []string
		ok     bool
	}{
		{topic, []string{"BACKUP_JOB_FAILED"}, true},
		{topic, []string{"S3_BACKUP_OBJECT_FAILED"}, true}, // AWS's, never sent by cairn
		{topic, nil, false},
		{topic, []string{"BACKUP_JOB_FAILED", "backup_job_failed"}, false},
		{topic, []string{string(EventTest)}, false},
		{"alerts", []string{"BACKUP_JOB_FAILED"}, false},
		{"arn:aws:sqs:us-east-1:123456789012:q", []string{"BACKUP_JOB_FAILED"}, false},
		{"arn:aws:sns:us-east-1:123456789012:a:b", []string{"BACKUP_JOB_FAILED"}, false},
		{"arn:aws:sns::123456789012:alerts", []string{"BACKUP_JOB_FAILED"}, false},
	} {
		err := ValidateVaultNotifications(tt.topic, tt.events)
		if (err == nil) != tt.ok || err != nil && ErrorCode(err) != ErrInvalidParameter {
			t.Errorf("ValidateVaultNotifications(%q, %v) = %v", tt.topic, tt.events, err)
		}
	}
}
