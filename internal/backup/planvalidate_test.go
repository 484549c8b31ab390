package backup

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func validPlan() PlanDocument {
	return PlanDocument{
		BackupPlanName: "BackupPlan_my-stack.v1",
		Rules: []BackupRule{{
			RuleName:                "RuleForDailyBackups",
			TargetBackupVaultName:   "BackupVault-x",
			ScheduleExpression:      "cron(0 5 ? * * *)",
			StartWindowMinutes:      60,
			CompletionWindowMinutes: 120,
			Lifecycle:               Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 120},
		}},
	}
}

func TestValidatePlanDocumentDefaults(t *testing.T) {
	d := PlanDocument{BackupPlanName: "p", Rules: []BackupRule{{RuleName: "r", TargetBackupVaultName: "Default"}}}
	if err := ValidatePlanDocument(&d); err != nil {
		t.Fatal(err)
	}
	r := d.Rules[0]
	if r.ScheduleExpression != DefaultScheduleExpression || r.ScheduleExpressionTimezone != "Etc/UTC" ||
		r.StartWindowMinutes != 480 || r.CompletionWindowMinutes != 10080 {
		t.Errorf("defaults not filled: %+v", r)
	}

	// The blog's template: explicit values are kept as given.
	d = validPlan()
	d.Rules[0].ScheduleExpressionTimezone = "Europe/Berlin"
	want := validPlan()
	want.Rules[0].ScheduleExpressionTimezone = "Europe/Berlin"
	if err := ValidatePlanDocument(&d); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("valid plan changed:\n got %+v\nwant %+v", d, want)
	}
}

func TestValidatePlanDocumentRejects(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(d *PlanDocument)
		code    Code
		context string
		want    string
	}{
		{"no name", func(d *PlanDocument) { d.BackupPlanName = "" }, ErrMissingParameter, "BackupPlanName", "BackupPlanName is required"},
		{"name with space", func(d *PlanDocument) { d.BackupPlanName = "my plan" }, ErrInvalidParameter, "BackupPlanName", "1 to 50 letters, digits"},
		{"name too long", func(d *PlanDocument) { d.BackupPlanName = strings.Repeat("a", 51) }, ErrInvalidParameter, "BackupPlanName", "1 to 50"},
		{"no rules", func(d *PlanDocument) { d.Rules = nil }, ErrMissingParameter, "Rules", "at least one rule"},
		{"no rule name", func(d *PlanDocument) { d.Rules[0].RuleName = "" }, ErrMissingParameter, "Rules[0].RuleName", "RuleName is required"},
		{"bad rule name", func(d *PlanDocument) { d.Rules[0].RuleName = "daily/backup" }, ErrInvalidParameter, "Rules[0].RuleName", `RuleName "daily/backup" must be 1 to 50`},
		{"duplicate rule names", func(d *PlanDocument) { d.Rules = append(d.Rules, d.Rules[0]) }, ErrInvalidParameter, "Rules[1].RuleName", "must be unique within a plan"},
		{"no vault", func(d *PlanDocument) { d.Rules[0].TargetBackupVaultName = "" }, ErrMissingParameter, "Rules[0].TargetBackupVaultName", "TargetBackupVaultName is required"},
		{"bad vault", func(d *PlanDocument) { d.Rules[0].TargetBackupVaultName = "a" }, ErrInvalidParameter, "Rules[0].TargetBackupVaultName", "2 to 50 characters"},
		{"bad cron", func(d *PlanDocument) { d.Rules[0].ScheduleExpression = "cron(0 25 ? * * *)" }, ErrInvalidParameter, "Rules[0].ScheduleExpression", "Hours field: value 25 is out of range; use 0-23"},
		{"rate", func(d *PlanDocument) { d.Rules[0].ScheduleExpression = "rate(1 day)" }, ErrInvalidParameter, "Rules[0].ScheduleExpression", "only cron(...)"},
		{"bad time zone", func(d *PlanDocument) { d.Rules[0].ScheduleExpressionTimezone = "Europe/Atlantis" }, ErrInvalidParameter, "Rules[0].ScheduleExpressionTimezone", "not a known IANA time zone"},
		{"start window 30", func(d *PlanDocument) { d.Rules[0].StartWindowMinutes = 30 }, ErrInvalidParameter, "Rules[0].StartWindowMinutes", "StartWindowMinutes must be at least 60; got 30"},
		{"negative start window", func(d *PlanDocument) { d.Rules[0].StartWindowMinutes = -5 }, ErrInvalidParameter, "Rules[0].StartWindowMinutes", "at least 60; got -5"},
		{"start window over 100 years", func(d *PlanDocument) {
			d.Rules[0].StartWindowMinutes = MaxWindowMinutes + 1
			d.Rules[0].CompletionWindowMinutes = MaxWindowMinutes
		}, ErrInvalidParameter, "Rules[0].StartWindowMinutes", "at most 52560000"},
		{"completion too short", func(d *PlanDocument) { d.Rules[0].CompletionWindowMinutes = 90 }, ErrInvalidParameter, "Rules[0].CompletionWindowMinutes", "at least 60 minutes longer than StartWindowMinutes (60), so at least 120; got 90"},
		{"completion shorter than default start", func(d *PlanDocument) {
			d.Rules[0].StartWindowMinutes = 0
			d.Rules[0].CompletionWindowMinutes = 300
		}, ErrInvalidParameter, "Rules[0].CompletionWindowMinutes", "(480), so at least 540; got 300"},
		{"completion over 100 years", func(d *PlanDocument) { d.Rules[0].CompletionWindowMinutes = MaxWindowMinutes + 1 }, ErrInvalidParameter, "Rules[0].CompletionWindowMinutes", "at most 52560000"},
		{"cold too soon before delete", func(d *PlanDocument) {
			d.Rules[0].Lifecycle = Lifecycle{MoveToColdStorageAfterDays: 30, DeleteAfterDays: 100}
		}, ErrInvalidParameter, "Rules[0].Lifecycle.DeleteAfterDays", "at least MoveToColdStorageAfterDays + 90 (points stay in cold storage 90 days at least), so at least 120; got 100"},
		{"delete over 100 years", func(d *PlanDocument) { d.Rules[0].Lifecycle = Lifecycle{DeleteAfterDays: 36501} }, ErrInvalidParameter, "Rules[0].Lifecycle.DeleteAfterDays", "1 to 36500 days"},
		{"negative cold", func(d *PlanDocument) { d.Rules[0].Lifecycle = Lifecycle{MoveToColdStorageAfterDays: -1} }, ErrInvalidParameter, "Rules[0].Lifecycle.MoveToColdStorageAfterDays", "1 to 36500 days"},
		{"reserved tag", func(d *PlanDocument) { d.Rules[0].RecoveryPointTags = map[string]string{"AWS:backup": "x"} }, ErrInvalidParameter, "Rules[0].RecoveryPointTags", "prefix aws: is reserved"},
		{"long tag key", func(d *PlanDocument) { d.Rules[0].RecoveryPointTags = map[string]string{strings.Repeat("k", 129): "x"} }, ErrInvalidParameter, "Rules[0].RecoveryPointTags", "1 to 128 characters"},
		{"empty tag key", func(d *PlanDocument) { d.Rules[0].RecoveryPointTags = map[string]string{"": "x"} }, ErrInvalidParameter, "Rules[0].RecoveryPointTags", "1 to 128 characters"},
		{"long tag value", func(d *PlanDocument) { d.Rules[0].RecoveryPointTags = map[string]string{"k": strings.Repeat("v", 257)} }, ErrInvalidParameter, "Rules[0].RecoveryPointTags", "at most 256 characters"},
		{"tag characters", func(d *PlanDocument) { d.Rules[0].RecoveryPointTags = map[string]string{"k": "a;b"} }, ErrInvalidParameter, "Rules[0].RecoveryPointTags", "only letters, digits, spaces and"},
		{"too many tags", func(d *PlanDocument) {
			d.Rules[0].RecoveryPointTags = map[string]string{}
			for i := 0; i < 51; i++ {
				d.Rules[0].RecoveryPointTags[strings.Repeat("k", i+1)] = "v"
			}
		}, ErrInvalidParameter, "Rules[0].RecoveryPointTags", "at most 50 tags; got 51"},
		{"copy without destination", func(d *PlanDocument) { d.Rules[0].CopyActions = []CopyAction{{}} }, ErrMissingParameter, "Rules[0].CopyActions[0].DestinationBackupVaultARN", "DestinationBackupVaultArn is required"},
		{"copy to a non-vault ARN", func(d *PlanDocument) {
			d.Rules[0].CopyActions = []CopyAction{{DestinationBackupVaultARN: "arn:aws:dynamodb:us-east-1:123456789012:table/t"}}
		}, ErrInvalidParameter, "Rules[0].CopyActions[0].DestinationBackupVaultARN", "is not a backup vault ARN"},
		{"copy lifecycle", func(d *PlanDocument) {
			d.Rules[0].CopyActions = []CopyAction{{DestinationBackupVaultARN: VaultARN("eu-west-1", "123456789012", "dr"), Lifecycle: Lifecycle{MoveToColdStorageAfterDays: 1, DeleteAfterDays: 90}}}
		}, ErrInvalidParameter, "Rules[0].CopyActions[0].Lifecycle.DeleteAfterDays", "so at least 91; got 90"},
		{"second rule", func(d *PlanDocument) {
			d.Rules = append(d.Rules, BackupRule{RuleName: "weekly", TargetBackupVaultName: "Default", StartWindowMinutes: 59})
		}, ErrInvalidParameter, "Rules[1].StartWindowMinutes", `rule "weekly": StartWindowMinutes must be at least 60; got 59`},
		{"advanced settings", func(d *PlanDocument) {
			d.AdvancedBackupSettings = []AdvancedBackupSetting{{ResourceType: ""}}
		}, ErrInvalidParameter, "AdvancedBackupSettings[0].ResourceType", "for example EC2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validPlan()
			d.Rules[0].StartWindowMinutes = 60 // tests may zero it
			tt.edit(&d)
			before := clonePlan(d)
			err := ValidatePlanDocument(&d)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if e.Code != tt.code || e.Context != tt.context || e.Type != "BackupPlan" {
				t.Errorf("got code %s context %q type %q, want %s %q", e.Code, e.Context, e.Type, tt.code, tt.context)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not say %q", e.Message, tt.want)
			}
			if !reflect.DeepEqual(d, before) {
				t.Errorf("a rejected plan was changed:\n got %+v\nwant %+v", d, before)
			}
		})
	}
}

func clonePlan(d PlanDocument) PlanDocument {
	c := d
	c.Rules = append([]BackupRule(nil), d.Rules...)
	return c
}

func TestValidatePlanDocumentNil(t *testing.T) {
	if ErrorCode(ValidatePlanDocument(nil)) != ErrMissingParameter {
		t.Error("nil plan accepted")
	}
}

func TestParseVaultARN(t *testing.T) {
	a, name, err := ParseVaultARN("arn:aws:backup:eu-west-1:123456789012:backup-vault:dr-vault")
	if err != nil || name != "dr-vault" || a.Region != "eu-west-1" || a.AccountID != "123456789012" {
		t.Fatalf("got %+v %q %v", a, name, err)
	}
	for _, bad := range []string{
		"", "dr-vault", "arn:aws:backup:eu-west-1:123456789012:recovery-point:x",
		"arn:aws:backup::123456789012:backup-vault:dr", "arn:aws:backup:eu-west-1:1234:backup-vault:dr",
		"arn:aws:s3:eu-west-1:123456789012:backup-vault:dr", "arn:aws:backup:eu-west-1:123456789012:backup-vault:",
		"arn:aws:backup:eu-west-1:123456789012:backup-vault:bad name",
	} {
		if _, _, err := ParseVaultARN(bad); ErrorCode(err) != ErrInvalidParameter {
			t.Errorf("ParseVaultARN(%q) = %v, want ErrInvalidParameter", bad, err)
		}
	}
}

func TestValidateRoleARN(t *testing.T) {
	for _, ok := range []string{"arn:aws:iam::123456789012:role/backup", "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"} {
		if err := ValidateRoleARN(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "role/x", "arn:aws:iam::123456789012:user/x", "arn:aws:iam::123456789012:role/", "arn:aws:s3:::role/x"} {
		if ErrorCode(ValidateRoleARN(bad)) != ErrInvalidParameter {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	s, err := ParseSchedule("", "")
	if err != nil || s.String() != DefaultScheduleExpression {
		t.Fatalf("default: %v %v", s, err)
	}
	next := s.Next(mustTime("2024-01-01T06:00:00Z"))
	if !next.Equal(mustTime("2024-01-02T05:00:00Z")) {
		t.Errorf("default schedule next = %v", next)
	}
	if _, err := ParseSchedule("cron(0 5 * * * *)", ""); ErrorCode(err) != ErrInvalidParameter {
		t.Errorf("bad expression: %v", err)
	}
}
