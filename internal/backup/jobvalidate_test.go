package backup

import (
	"strings"
	"testing"
)

func ptr(v int64) *int64 { return &v }

func TestValidateWindows(t *testing.T) {
	good := []struct {
		start, completion *int64
		s, c              int64
	}{
		{nil, nil, DefaultStartWindowMinutes, DefaultCompletionWindowMinutes},
		{ptr(60), nil, 60, DefaultCompletionWindowMinutes},
		{ptr(60), ptr(120), 60, 120},
		{nil, ptr(540), 480, 540},
		{ptr(MaxWindowMinutes - 60), ptr(MaxWindowMinutes), MaxWindowMinutes - 60, MaxWindowMinutes},
	}
	for _, tt := range good {
		s, c, err := ValidateWindows("StartWindowMinutes", tt.start, "CompleteWindowMinutes", tt.completion)
		if err != nil || s != tt.s || c != tt.c {
			t.Errorf("ValidateWindows(%v, %v) = %d, %d, %v; want %d, %d", tt.start, tt.completion, s, c, err, tt.s, tt.c)
		}
	}
	bad := []struct {
		start, completion *int64
		member, want      string
	}{
		{ptr(0), nil, "StartWindowMinutes", "at least 60; got 0"},
		{ptr(-1), nil, "StartWindowMinutes", "at least 60"},
		{ptr(1e15), ptr(1e15 + 60), "StartWindowMinutes", "at most 52560000 (100 years); got 1000000000000000"},
		{nil, ptr(1e15), "CompleteWindowMinutes", "at most 52560000"},
		{nil, ptr(0), "CompleteWindowMinutes", "at least 540"},
		{ptr(120), ptr(150), "CompleteWindowMinutes", "at least 60 minutes longer than StartWindowMinutes (120), so at least 180; got 150"},
		{ptr(20000), nil, "CompleteWindowMinutes", "so at least 20060; got 10080"},
		{ptr(MaxWindowMinutes), nil, "CompleteWindowMinutes", "at least"},
	}
	for _, tt := range bad {
		_, _, err := ValidateWindows("StartWindowMinutes", tt.start, "CompleteWindowMinutes", tt.completion)
		e, ok := err.(*Error)
		if !ok || e.Code != ErrInvalidParameter || e.Context != tt.member || !strings.Contains(e.Message, tt.want) {
			t.Errorf("ValidateWindows(%v, %v) = %v; want %s saying %q", tt.start, tt.completion, err, tt.member, tt.want)
		}
	}
}

func TestValidateStartBackupJob(t *testing.T) {
	valid := func() StartBackupJobInput {
		return StartBackupJobInput{VaultName: "Default", ResourceARN: "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
			IAMRoleARN: "arn:aws:iam::123456789012:role/backup", RecoveryPointTags: map[string]string{"env": "prod"}}
	}
	in := valid()
	if err := ValidateStartBackupJob(&in); err != nil {
		t.Fatalf("valid input: %v", err)
	}
	tests := []struct {
		name string
		edit func(*StartBackupJobInput)
		code Code
		want string
	}{
		{"no vault", func(in *StartBackupJobInput) { in.VaultName = "" }, ErrMissingParameter, "BackupVaultName"},
		{"bad vault", func(in *StartBackupJobInput) { in.VaultName = "a b" }, ErrInvalidParameter, "BackupVaultName: backup vault name"},
		{"account 0", func(in *StartBackupJobInput) { in.ResourceARN = "arn:aws:dynamodb:us-east-1:0:table/orders" }, ErrInvalidParameter, "12-digit account"},
		{"account letters", func(in *StartBackupJobInput) { in.ResourceARN = "arn:aws:dynamodb:us-east-1:12345678901x:table/orders" }, ErrInvalidParameter, "12-digit account"},
		{"no region", func(in *StartBackupJobInput) { in.ResourceARN = "arn:aws:dynamodb::123456789012:table/orders" }, ErrInvalidParameter, "region"},
		{"not a table", func(in *StartBackupJobInput) { in.ResourceARN = "arn:aws:s3:::bucket" }, ErrInvalidParameter, "not a DynamoDB table ARN"},
		{"user not role", func(in *StartBackupJobInput) { in.IAMRoleARN = "arn:aws:iam::123456789012:user/u" }, ErrInvalidParameter, "IamRoleArn"},
		{"start window", func(in *StartBackupJobInput) { in.StartWindowMins = 30 }, ErrInvalidParameter, "StartWindowMinutes must be at least 60"},
		{"start window overflow", func(in *StartBackupJobInput) { in.StartWindowMins, in.CompleteWindowMin = 1e15, 1e15+60 }, ErrInvalidParameter, "at most 52560000"},
		{"complete window overflow", func(in *StartBackupJobInput) { in.CompleteWindowMin = 1e15 }, ErrInvalidParameter, "CompleteWindowMinutes must be at most"},
		{"negative window", func(in *StartBackupJobInput) { in.CompleteWindowMin = -5 }, ErrInvalidParameter, "CompleteWindowMinutes"},
		{"lifecycle", func(in *StartBackupJobInput) {
			in.Lifecycle = Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 20}
		}, ErrInvalidParameter, "DeleteAfterDays"},
		{"aws: tag", func(in *StartBackupJobInput) { in.RecoveryPointTags = map[string]string{"aws:backup": "x"} }, ErrInvalidParameter, "prefix aws: is reserved"},
		{"NUL tag", func(in *StartBackupJobInput) { in.RecoveryPointTags = map[string]string{"a\x00": "x"} }, ErrInvalidParameter, "RecoveryPointTags"},
	}
	for _, tt := range tests {
		in := valid()
		tt.edit(&in)
		err := ValidateStartBackupJob(&in)
		if ErrorCode(err) != tt.code || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want %s saying %q", tt.name, err, tt.code, tt.want)
		}
	}
}

func TestValidatePlanRunsAfter(t *testing.T) {
	now := mustTime("2030-06-01T00:00:00Z")
	for expr, ok := range map[string]bool{
		"cron(0 5 ? * * *)":          true,
		"cron(0 5 1 1 ? 2031)":       true,
		"cron(0 5 1 6 ? 2030)":       true, // 05:00 on the 1st, after midnight
		"cron(0 5 ? * * 2020-2029)":  false,
		"cron(0 5 1 1 ? 2030)":       false,
		"cron(0 5 L 12 ? 1970-2000)": false,
	} {
		d := PlanDocument{BackupPlanName: "p", Rules: []BackupRule{{RuleName: "r", TargetBackupVaultName: "Default", ScheduleExpression: expr}}}
		if err := ValidatePlanDocument(&d); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		err := ValidatePlanRunsAfter(&d, now)
		if ok != (err == nil) {
			t.Errorf("%s: %v", expr, err)
		}
		if err != nil && (ErrorCode(err) != ErrInvalidParameter || !strings.Contains(err.Error(), "has no run after 2030-06-01T00:00:00Z")) {
			t.Errorf("%s: %v", expr, err)
		}
	}
}
