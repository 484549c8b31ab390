package backup

import (
	"strings"
	"testing"
)

func TestValidateFrameworkControls(t *testing.T) {
	ctl := func(name string, kv ...string) FrameworkControl {
		c := FrameworkControl{Name: name}
		for i := 0; i+1 < len(kv); i += 2 {
			c.InputParameters = append(c.InputParameters, ControlInputParameter{Name: kv[i], Value: kv[i+1]})
		}
		return c
	}
	good := [][]FrameworkControl{
		{ctl(ControlProtectedByBackupPlan)},
		{ctl(ControlPlanMinFrequencyRetention, ParamRequiredFrequencyUnit, "hours", ParamRequiredFrequencyValue, "24", ParamRequiredRetentionDays, "1")},
		{ctl(ControlPlanMinFrequencyRetention, ParamRequiredFrequencyValue, "31")}, // days by default
		{ctl(ControlLastRecoveryPointCreated, ParamRecoveryPointAgeValue, "744", ParamRecoveryPointAgeUnit, "hours")},
		{ctl(ControlRecoveryPointManualDeletion, ParamPrincipalArnList, "arn:aws:iam::123456789012:role/a,arn:aws:iam::123456789012:user/b")},
		{{Name: ControlRecoveryPointMinRetention, Scope: ControlScope{ComplianceResourceIDs: []string{"orders"},
			ComplianceResourceTypes: []string{"DynamoDB", "EBS"}, Tags: map[string]string{"backup": ""}}}},
	}
	for _, cs := range good {
		if err := ValidateFrameworkControls(cs); err != nil {
			t.Errorf("ValidateFrameworkControls(%+v): %v", cs, err)
		}
	}
	bad := []struct {
		cs   []FrameworkControl
		want string // in the message
	}{
		{nil, "at least one"},
		{[]FrameworkControl{ctl("")}, "FrameworkControls[0].ControlName"},
		{[]FrameworkControl{ctl("BACKUP_RECOVERY_POINT_ENCRYPTED")}, "not a control cairn evaluates"},
		{[]FrameworkControl{ctl(ControlProtectedByBackupPlan), ctl(ControlProtectedByBackupPlan)}, "twice"},
		{[]FrameworkControl{ctl(ControlProtectedByBackupPlan, "x", "1")}, "takes no input parameters"},
		{[]FrameworkControl{ctl(ControlRecoveryPointMinRetention, ParamRecoveryPointAgeUnit, "days")}, "not a parameter"},
		{[]FrameworkControl{ctl(ControlRecoveryPointMinRetention, ParamRequiredRetentionDays, "1", ParamRequiredRetentionDays, "2")}, "given twice"},
		{[]FrameworkControl{ctl(ControlRecoveryPointMinRetention, ParamRequiredRetentionDays, "0")}, "out of range"},
		{[]FrameworkControl{ctl(ControlRecoveryPointMinRetention, ParamRequiredRetentionDays, "1.5")}, "whole number"},
		{[]FrameworkControl{ctl(ControlPlanMinFrequencyRetention, ParamRequiredFrequencyUnit, "hours", ParamRequiredFrequencyValue, "25")}, "1 to 24 hours"},
		{[]FrameworkControl{ctl(ControlPlanMinFrequencyRetention, ParamRequiredFrequencyValue, "32")}, "1 to 31 days"},
		// The unit is checked before the value whose bounds it sets.
		{[]FrameworkControl{ctl(ControlPlanMinFrequencyRetention, ParamRequiredFrequencyValue, "2", ParamRequiredFrequencyUnit, "weeks")}, "must be one of hours, days"},
		{[]FrameworkControl{ctl(ControlRecoveryPointManualDeletion, ParamPrincipalArnList, "bob")}, "not an IAM role or user ARN"},
		{[]FrameworkControl{ctl(ControlRecoveryPointManualDeletion, ParamPrincipalArnList, strings.Repeat("arn:aws:iam::123456789012:role/a,", 5)+"arn:aws:iam::123456789012:role/a")}, "at most 5"},
		{[]FrameworkControl{{Name: ControlProtectedByBackupPlan, Scope: ControlScope{ComplianceResourceIDs: []string{}}}}, "at least one resource"},
		{[]FrameworkControl{{Name: ControlProtectedByBackupPlan, Scope: ControlScope{ComplianceResourceTypes: []string{"dynamodb"}}}}, "not an AWS Backup resource type"},
		{[]FrameworkControl{{Name: ControlProtectedByBackupPlan, Scope: ControlScope{Tags: map[string]string{"a": "", "b": ""}}}}, "at most one"},
	}
	for _, b := range bad {
		err := ValidateFrameworkControls(b.cs)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("ValidateFrameworkControls(%+v) = %v, want an error saying %q", b.cs, err, b.want)
		}
	}
	// 51 controls pass the account's limit.
	many := make([]FrameworkControl, MaxFrameworkControls+1)
	if err := ValidateFrameworkControls(many); ErrorCode(err) != ErrLimitExceeded {
		t.Errorf("51 controls: %v, want LimitExceeded", err)
	}
}

func TestValidateFrameworkName(t *testing.T) {
	for _, ok := range []string{"a", "daily_audit", "A1_b2", strings.Repeat("a", 256)} {
		if err := ValidateFrameworkName(ok); err != nil {
			t.Errorf("ValidateFrameworkName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1a", "_a", "a-b", "a b", "é", strings.Repeat("a", 257)} {
		if err := ValidateFrameworkName(bad); err == nil {
			t.Errorf("ValidateFrameworkName(%q) accepted", bad)
		}
	}
}

func FuzzValidateFrameworkControls(f *testing.F) {
	f.Add(ControlPlanMinFrequencyRetention, ParamRequiredFrequencyUnit, "hours", ParamRequiredFrequencyValue, "24")
	f.Add(ControlRecoveryPointManualDeletion, ParamPrincipalArnList, "arn:aws:iam::123456789012:role/a", "", "")
	f.Fuzz(func(t *testing.T, name, p1, v1, p2, v2 string) {
		c := FrameworkControl{Name: name, InputParameters: []ControlInputParameter{{p1, v1}, {p2, v2}}}
		if err := ValidateFrameworkControls([]FrameworkControl{c}); err == nil {
			// What is accepted evaluates with values in range.
			def := ControlByName(name)
			vals := def.ParamValues(c.InputParameters)
			for _, p := range def.Params {
				if len(p.Values) > 0 && !strings.Contains(strings.Join(p.Values, ","), vals[p.Name]) {
					t.Fatalf("accepted %s=%q", p.Name, vals[p.Name])
				}
			}
		}
	})
}
