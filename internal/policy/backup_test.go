package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

var env = Env{AccountID: "000000000000", Region: "us-east-1"}

func TestSuperwerkerBackupPolicy(t *testing.T) {
	plans, err := ParseBackupPolicy(readFixture(t, "superwerker-backup-policy.json"), env)
	if err != nil {
		t.Fatal(err)
	}
	want := []Plan{{
		Name:    "superwerker-backup",
		Regions: []string{"us-east-1"},
		Document: backup.PlanDocument{
			BackupPlanName: "superwerker-backup",
			Rules: []backup.BackupRule{{
				RuleName:                   "backup-daily",
				TargetBackupVaultName:      "Default",
				ScheduleExpression:         "cron(0 5 ? * * *)",
				ScheduleExpressionTimezone: backup.DefaultScheduleExpressionTimezone,
				StartWindowMinutes:         backup.DefaultStartWindowMinutes,
				CompletionWindowMinutes:    backup.DefaultCompletionWindowMinutes,
				Lifecycle:                  backup.Lifecycle{DeleteAfterDays: 30},
			}},
		},
		Selections: []backup.SelectionDocument{{
			SelectionName: "backup-daily",
			IAMRoleARN:    "arn:aws:iam::000000000000:role/service-role/AWSBackupDefaultServiceRole",
			ListOfTags:    []backup.TagCondition{{ConditionType: "STRINGEQUALS", ConditionKey: "superwerker:backup", ConditionValue: "daily"}},
		}},
	}}
	if !reflect.DeepEqual(plans, want) {
		t.Fatalf("plans =\n%+v\nwant\n%+v", plans, want)
	}
	if !plans[0].InRegion("us-east-1") || plans[0].InRegion("eu-west-1") {
		t.Error("InRegion is wrong")
	}
}

// A document using every element of the syntax.
func TestBackupPolicyFull(t *testing.T) {
	doc := `{"plans":{"pii":{
		"regions":{"@@append":["eu-central-1","us-east-1"]},
		"rules":{"hourly":{
			"schedule_expression":{"@@assign":"cron(0 * ? * * *)"},
			"schedule_expression_timezone":{"@@assign":"Europe/Berlin"},
			"start_backup_window_minutes":{"@@assign":"60"},
			"complete_backup_window_minutes":{"@@assign":240},
			"enable_continuous_backup":{"@@assign":false},
			"target_backup_vault_name":{"@@assign":"Default"},
			"lifecycle":{"move_to_cold_storage_after_days":{"@@assign":"10"},"delete_after_days":{"@@assign":"100"},
				"opt_in_to_archive_for_supported_resources":{"@@assign":"false"}},
			"recovery_point_tags":{"owner":{"tag_key":{"@@assign":"Owner"},"tag_value":{"@@assign":"Backup"}}},
			"copy_actions":{"arn:aws:backup:us-east-1:$account:backup-vault:offsite":{
				"target_backup_vault_arn":{"@@assign":"arn:aws:backup:us-east-1:$account:backup-vault:offsite"},
				"lifecycle":{"delete_after_days":{"@@assign":"365"}}}}}},
		"selections":{
			"tags":{"pii":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/Backup"},
				"tag_key":{"@@assign":"dataType"},"tag_value":{"@@assign":["PII","RED"]}}},
			"resources":{"all-tables":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/Backup"},
				"resource_types":{"@@assign":["arn:aws:dynamodb:*:*:table/*"]},
				"not_resource_types":{"@@assign":["arn:aws:dynamodb:*:*:table/tmp-*"]},
				"conditions":{"string_equals":{"dept":{"condition_key":{"@@assign":"aws:ResourceTag/Department"},"condition_value":{"@@assign":"finance"}}},
					"string_not_like":{"stage":{"condition_key":{"@@assign":"aws:ResourceTag/Stage"},"condition_value":{"@@assign":"test*"}}}}}}},
		"advanced_backup_settings":{"ec2":{"windows_vss":{"@@assign":"enabled"}}},
		"backup_plan_tags":{"stage":{"tag_key":{"@@assign":"Stage"},"tag_value":{"@@assign":"Beta"}}}}}}`
	plans, err := ParseBackupPolicy([]byte(doc), env)
	if err != nil {
		t.Fatal(err)
	}
	p := plans[0]
	r := p.Document.Rules[0]
	if r.StartWindowMinutes != 60 || r.CompletionWindowMinutes != 240 || r.ScheduleExpressionTimezone != "Europe/Berlin" ||
		r.Lifecycle != (backup.Lifecycle{MoveToColdStorageAfterDays: 10, DeleteAfterDays: 100}) ||
		r.RecoveryPointTags["Owner"] != "Backup" || len(r.CopyActions) != 1 ||
		r.CopyActions[0].DestinationBackupVaultARN != "arn:aws:backup:us-east-1:000000000000:backup-vault:offsite" ||
		r.CopyActions[0].Lifecycle.DeleteAfterDays != 365 {
		t.Errorf("rule = %+v", r)
	}
	if !reflect.DeepEqual(p.Regions, []string{"eu-central-1", "us-east-1"}) || p.Tags["Stage"] != "Beta" ||
		p.Document.AdvancedBackupSettings[0].BackupOptions["WindowsVSS"] != "enabled" {
		t.Errorf("plan = %+v", p)
	}
	if len(p.Selections) != 2 || len(p.Selections[0].ListOfTags) != 2 || p.Selections[1].Resources[0] != "arn:aws:dynamodb:*:*:table/*" ||
		p.Selections[1].Conditions.StringNotLike[0].ConditionValue != "test*" || p.Selections[1].NotResources[0] != "arn:aws:dynamodb:*:*:table/tmp-*" {
		t.Errorf("selections = %+v", p.Selections)
	}
}

// Every invalid document names the path at fault.
func TestBackupPolicyErrorsNamePath(t *testing.T) {
	base := readFixture(t, "superwerker-backup-policy.json")
	rule := "plans.superwerker-backup.rules.backup-daily"
	sel := "plans.superwerker-backup.selections.tags.backup-daily"
	for _, tc := range []struct{ from, to, path, says string }{
		{`"30"`, `"0"`, rule + ".lifecycle.delete_after_days", "1 to 36500"},
		{`"30"`, `"36501"`, rule + ".lifecycle.delete_after_days", "1 to 36500"},
		{`"30"`, `"thirty"`, rule + ".lifecycle.delete_after_days", "whole number"},
		{`"30"`, `["30"]`, rule + ".lifecycle.delete_after_days", "whole number"},
		{`"@@assign": "30"`, `"@@append": "30"`, rule + ".lifecycle.delete_after_days.@@append", "lists only"},
		{`"delete_after_days"`, `"delete_after_dayz"`, rule + ".lifecycle.delete_after_dayz", "unknown key"},
		{`"@@assign": "30"`, `"@@set": "30"`, rule + ".lifecycle.delete_after_days.@@set", "unknown operator"},
		{`"cron(0 5 ? * * *)"`, `"cron(0 25 ? * * *)"`, rule + ".schedule_expression", "rule \"backup-daily\""},
		{`"target_backup_vault_name": {`, `"schedule_expression_timezone": {"@@assign": "Mars/Olympus"}, "target_backup_vault_name": {`, rule + ".schedule_expression_timezone", ""},
		{`"target_backup_vault_name": {`, `"start_backup_window_minutes": {"@@assign": "10"}, "target_backup_vault_name": {`, rule + ".start_backup_window_minutes", ""},
		{`"target_backup_vault_name": {`, `"enable_continuous_backup": {"@@assign": "yes"}, "target_backup_vault_name": {`, rule + ".enable_continuous_backup", "true or false"},
		{`"Default"`, `"no spaces allowed"`, rule + ".target_backup_vault_name", ""},
		{`"target_backup_vault_name": {
            "@@assign": "Default"
          }`, `"copy_actions": {"x": {"target_backup_vault_arn": {"@@assign": "not-an-arn"}}}, "target_backup_vault_name": {"@@assign": "Default"}`, rule + ".copy_actions.x.target_backup_vault_arn", ""},
		{`"move_to_cold_storage_after_days"`, `"x"`, "", ""}, // absent: unchanged, valid (skipped below)
		{`"us-east-1"`, `"moon-1"`, "plans.superwerker-backup.regions[0]", "region name"},
		{`"regions"`, `"region"`, "plans.superwerker-backup.region", "unknown key"},
		{`"arn:aws:iam::$account:role/service-role/AWSBackupDefaultServiceRole"`, `"role"`, sel + ".iam_role_arn", "IAM role ARN"},
		{`"daily"
              ]`, `]`, sel + ".tag_value", "no value"},
		{`"tag_key": {
              "@@assign": "superwerker:backup"
            },`, ``, sel + ".tag_key", "required"},
		{`"tags": {
          "backup-daily"`, `"tagz": {
          "backup-daily"`, "plans.superwerker-backup.selections.tagz", "unknown key"},
		{`"plans"`, `"plan"`, "plan", "unknown key"},
	} {
		if tc.path == "" {
			continue
		}
		doc := strings.Replace(string(base), tc.from, tc.to, 1)
		if doc == string(base) {
			t.Fatalf("%q not in the fixture", tc.from)
		}
		_, err := ParseBackupPolicy([]byte(doc), env)
		checkPathError(t, tc.to, err, tc.path, tc.says)
	}
}

func TestBackupPolicyStructureErrors(t *testing.T) {
	for _, tc := range []struct{ doc, path, says string }{
		{`{}`, "plans", "needs \"plans\""},
		{`{"plans":{}}`, "plans", "no plan"},
		{`{"plans":{"p":{"rules":{}}}}`, "plans.p.regions", "required"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]}}}}`, "plans.p.rules", "required"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{}}}}}`, "plans.p.rules.r.target_backup_vault_name", "required"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"}}}}}}`, "plans.p.selections", "required"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"}}},
			"selections":{"resources":{"s":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/r"}}}}}}}`, "plans.p.selections.resources.s.resource_types", "required"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"}}},
			"selections":{"resources":{"s":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/r"},"resource_types":{"@@assign":["table"]}}}}}}}`, "plans.p.selections.resources.s.resource_types", "must be an ARN"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"}}},
			"selections":{"resources":{"s":{"iam_role_arn":{"@@assign":"arn:aws:iam::$account:role/r"},"resource_types":{"@@assign":["*"]},
			"conditions":{"string_like":{"c":{"condition_key":{"@@assign":"Department"},"condition_value":{"@@assign":"x"}}}}}}}}}}`, "plans.p.selections.resources.s.conditions.string_like.c", "aws:ResourceTag/"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"},
			"lifecycle":{"move_to_cold_storage_after_days":{"@@assign":"30"},"delete_after_days":{"@@assign":"60"}}}}}}}`, "plans.p.rules.r.lifecycle.delete_after_days", "at least 120"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"},
			"start_backup_window_minutes":{"@@assign":"120"},"complete_backup_window_minutes":{"@@assign":"90"}}}}}}`, "plans.p.rules.r.complete_backup_window_minutes", ""},
		{`{"plans":{"bad name":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"}}}}}}`, "plans.bad name", "BackupPlanName"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"}}},
			"advanced_backup_settings":{"ec2":{"windows_vss":{"@@assign":"maybe"}}}}}}`, "plans.p.advanced_backup_settings.ec2.windows_vss", "enabled"},
		{`{"plans":{"p":{"regions":{"@@assign":["us-east-1"]},"rules":{"r":{"target_backup_vault_name":{"@@assign":"Default"},
			"recovery_point_tags":{"o":{"tag_key":{"@@assign":"aws:x"},"tag_value":{"@@assign":"v"}}}}}}}}`, "plans.p.rules.r.recovery_point_tags.o", "reserved"},
	} {
		_, err := ParseBackupPolicy([]byte(tc.doc), env)
		checkPathError(t, tc.doc, err, tc.path, tc.says)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"superwerker-backup-policy.json", "superwerker-tag-policy.json"} {
		b, err := readTestdata(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if _, err := ParseBackupPolicy(doc, env); err != nil {
			if _, ok := err.(*backup.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
		if _, err := ParseTagPolicy("p", doc, Options{}); err != nil {
			if _, ok := err.(*backup.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
	})
}

func TestPresetSuperwerker(t *testing.T) {
	ps, err := Preset("superwerker", "eu-central-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].Type != backup.PolicyTypeTag || ps[1].Type != backup.PolicyTypeBackup {
		t.Fatalf("preset = %+v", ps)
	}
	rules, err := ParseTagPolicy(ps[0].Name, []byte(ps[0].Document), ps[0].Options)
	if err != nil || len(rules) != 1 || rules[0].Key != "superwerker:backup" || rules[0].Options.DefaultValue != "daily" {
		t.Fatalf("tag policy: %+v %v", rules, err)
	}
	if err := ValidateOptions(ps[0].Type, []byte(ps[0].Document), ps[0].Options); err != nil {
		t.Fatal(err)
	}
	plans, err := ParseBackupPolicy([]byte(ps[1].Document), Env{AccountID: "123456789012", Region: "eu-central-1"})
	if err != nil || len(plans) != 1 || !plans[0].InRegion("eu-central-1") || plans[0].InRegion("us-east-1") ||
		plans[0].Selections[0].IAMRoleARN != "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole" {
		t.Fatalf("backup policy: %+v %v", plans, err)
	}
	if _, err := Preset("other", "us-east-1"); err == nil {
		t.Fatal("an unknown preset is refused")
	}
}
