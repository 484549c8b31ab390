package cfn

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// vaultSpec is what an AWS::Backup::BackupVault resource asks for.
type vaultSpec struct {
	Name             string            `json:"BackupVaultName"`
	EncryptionKeyARN string            `json:"EncryptionKeyArn,omitempty"`
	Tags             map[string]string `json:"BackupVaultTags,omitempty"`
}

// planSpec is what an AWS::Backup::BackupPlan resource asks for.
type planSpec struct {
	Plan backup.PlanDocument `json:"BackupPlan"`
	Tags map[string]string   `json:"BackupPlanTags,omitempty"`
}

// selectionSpec is what an AWS::Backup::BackupSelection resource asks for.
type selectionSpec struct {
	PlanID    string                   `json:"BackupPlanId"`
	Selection backup.SelectionDocument `json:"BackupSelection"`
}

// Attributes each resource type returns to Ref ("Ref") and Fn::GetAtt.
var attributeNames = map[string][]string{
	TypeBackupVault:     {"BackupVaultArn", "BackupVaultName"},
	TypeBackupPlan:      {"BackupPlanArn", "BackupPlanId", "VersionId"},
	TypeBackupSelection: {"BackupPlanId", "Id", "SelectionId"},
}

// ignoredProperties are valid CloudFormation properties cairn accepts but
// does not act on; apply names them in its message.
var ignoredProperties = map[string][]string{
	TypeBackupVault: {"AccessPolicy", "LockConfiguration", "Notifications"},
}

// props decodes resolved properties, naming the property at fault.
type props struct{}

func propErr(path, format string, args ...any) error {
	return fmt.Errorf("property %s: %s", path, fmt.Sprintf(format, args...))
}

// object requires a mapping whose keys are among known.
func (props) object(v any, path string, known ...string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, propErr(path, "must be a mapping, not %s", describe(v))
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(known, k) {
			of := path
			if of == "" {
				of = "this resource type"
			}
			return nil, propErr(join(path, k), "is not a property of %s (valid: %s)", of, strings.Join(known, ", "))
		}
	}
	return m, nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func (props) str(m map[string]any, path, k string, required bool) (string, error) {
	v, ok := m[k]
	if !ok || v == nil {
		if required {
			return "", propErr(join(path, k), "is required")
		}
		return "", nil
	}
	s, err := scalarString(v)
	if err != nil {
		return "", propErr(join(path, k), "%v", err)
	}
	return s, nil
}

func (props) integer(m map[string]any, path, k string) (int64, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return 0, nil
	}
	var f float64
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case float64:
		f = x
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, propErr(join(path, k), "%q is not a number", x)
		}
	default:
		return 0, propErr(join(path, k), "must be a number, not %s", describe(v))
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, propErr(join(path, k), "%s is not a whole number", formatFloat(f))
	}
	return int64(f), nil
}

func (props) boolean(m map[string]any, path, k string) (bool, error) {
	switch x := m[k].(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return false, propErr(join(path, k), "must be true or false, not %s", describe(m[k]))
}

func (props) strMap(m map[string]any, path, k string) (map[string]string, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, nil
	}
	in, ok := v.(map[string]any)
	if !ok {
		return nil, propErr(join(path, k), "must be a mapping of keys to values, not %s", describe(v))
	}
	out := make(map[string]string, len(in))
	for _, key := range sortedKeys(in) {
		s, err := scalarString(in[key])
		if err != nil {
			return nil, propErr(join(path, k)+"."+key, "%v", err)
		}
		out[key] = s
	}
	return out, nil
}

func (props) strList(m map[string]any, path, k string) ([]string, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, nil
	}
	in, ok := v.([]any)
	if !ok {
		return nil, propErr(join(path, k), "must be a list, not %s", describe(v))
	}
	out := make([]string, len(in))
	for i, el := range in {
		s, err := scalarString(el)
		if err != nil {
			return nil, propErr(fmt.Sprintf("%s[%d]", join(path, k), i), "%v", err)
		}
		out[i] = s
	}
	return out, nil
}

func (props) list(m map[string]any, path, k string, required bool) ([]any, error) {
	v, ok := m[k]
	if !ok || v == nil {
		if required {
			return nil, propErr(join(path, k), "is required")
		}
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, propErr(join(path, k), "must be a list, not %s", describe(v))
	}
	return l, nil
}

// decodeVault reads an AWS::Backup::BackupVault's properties. notes name
// the properties cairn ignores.
func decodeVault(p map[string]any) (spec vaultSpec, notes []string, err error) {
	var d props
	known := append([]string{"BackupVaultName", "BackupVaultTags", "EncryptionKeyArn"}, ignoredProperties[TypeBackupVault]...)
	if _, err := d.object(p, "", known...); err != nil {
		return spec, nil, err
	}
	if spec.Name, err = d.str(p, "", "BackupVaultName", true); err != nil {
		return spec, nil, err
	}
	if err := backup.ValidateVaultName(spec.Name); err != nil {
		return spec, nil, propErr("BackupVaultName", "%s", message(err))
	}
	if spec.EncryptionKeyARN, err = d.str(p, "", "EncryptionKeyArn", false); err != nil {
		return spec, nil, err
	}
	if spec.Tags, err = d.strMap(p, "", "BackupVaultTags"); err != nil {
		return spec, nil, err
	}
	if _, _, err := backup.StorageFromTags(spec.Tags); err != nil {
		return spec, nil, propErr("BackupVaultTags", "%s", message(err))
	}
	for _, k := range ignoredProperties[TypeBackupVault] {
		if _, ok := p[k]; ok {
			notes = append(notes, k)
		}
	}
	return spec, notes, nil
}

func decodeLifecycle(d props, m map[string]any, path string) (backup.Lifecycle, error) {
	var l backup.Lifecycle
	v, ok := m["Lifecycle"]
	if !ok || v == nil {
		return l, nil
	}
	path = join(path, "Lifecycle")
	lm, err := d.object(v, path, "DeleteAfterDays", "MoveToColdStorageAfterDays", "OptInToArchiveForSupportedResources")
	if err != nil {
		return l, err
	}
	if l.DeleteAfterDays, err = d.integer(lm, path, "DeleteAfterDays"); err != nil {
		return l, err
	}
	if l.MoveToColdStorageAfterDays, err = d.integer(lm, path, "MoveToColdStorageAfterDays"); err != nil {
		return l, err
	}
	if _, err := d.boolean(lm, path, "OptInToArchiveForSupportedResources"); err != nil {
		return l, err
	}
	return l, nil
}

// decodePlan reads an AWS::Backup::BackupPlan's properties and checks the
// plan document as AWS does.
func decodePlan(p map[string]any) (spec planSpec, err error) {
	var d props
	if _, err := d.object(p, "", "BackupPlan", "BackupPlanTags"); err != nil {
		return spec, err
	}
	if spec.Tags, err = d.strMap(p, "", "BackupPlanTags"); err != nil {
		return spec, err
	}
	bpv, ok := p["BackupPlan"]
	if !ok {
		return spec, propErr("BackupPlan", "is required")
	}
	bp, err := d.object(bpv, "BackupPlan", "BackupPlanName", "BackupPlanRule", "AdvancedBackupSettings")
	if err != nil {
		return spec, err
	}
	doc := &spec.Plan
	if doc.BackupPlanName, err = d.str(bp, "BackupPlan", "BackupPlanName", true); err != nil {
		return spec, err
	}
	rules, err := d.list(bp, "BackupPlan", "BackupPlanRule", true)
	if err != nil {
		return spec, err
	}
	for i, rv := range rules {
		path := fmt.Sprintf("BackupPlan.BackupPlanRule[%d]", i)
		rm, err := d.object(rv, path, "RuleName", "TargetBackupVault", "ScheduleExpression", "ScheduleExpressionTimezone",
			"StartWindowMinutes", "CompletionWindowMinutes", "Lifecycle", "RecoveryPointTags", "CopyActions",
			"EnableContinuousBackup", "IndexActions")
		if err != nil {
			return spec, err
		}
		var r backup.BackupRule
		if r.RuleName, err = d.str(rm, path, "RuleName", true); err != nil {
			return spec, err
		}
		if r.TargetBackupVaultName, err = d.str(rm, path, "TargetBackupVault", true); err != nil {
			return spec, err
		}
		r.TargetBackupVaultName = vaultName(r.TargetBackupVaultName)
		if r.ScheduleExpression, err = d.str(rm, path, "ScheduleExpression", false); err != nil {
			return spec, err
		}
		if r.ScheduleExpressionTimezone, err = d.str(rm, path, "ScheduleExpressionTimezone", false); err != nil {
			return spec, err
		}
		if r.StartWindowMinutes, err = d.integer(rm, path, "StartWindowMinutes"); err != nil {
			return spec, err
		}
		if r.CompletionWindowMinutes, err = d.integer(rm, path, "CompletionWindowMinutes"); err != nil {
			return spec, err
		}
		if r.Lifecycle, err = decodeLifecycle(d, rm, path); err != nil {
			return spec, err
		}
		if r.RecoveryPointTags, err = d.strMap(rm, path, "RecoveryPointTags"); err != nil {
			return spec, err
		}
		if r.EnableContinuousBackup, err = d.boolean(rm, path, "EnableContinuousBackup"); err != nil {
			return spec, err
		}
		copies, err := d.list(rm, path, "CopyActions", false)
		if err != nil {
			return spec, err
		}
		for j, cv := range copies {
			cpath := fmt.Sprintf("%s.CopyActions[%d]", path, j)
			cm, err := d.object(cv, cpath, "DestinationBackupVaultArn", "Lifecycle")
			if err != nil {
				return spec, err
			}
			var ca backup.CopyAction
			if ca.DestinationBackupVaultARN, err = d.str(cm, cpath, "DestinationBackupVaultArn", true); err != nil {
				return spec, err
			}
			if ca.Lifecycle, err = decodeLifecycle(d, cm, cpath); err != nil {
				return spec, err
			}
			r.CopyActions = append(r.CopyActions, ca)
		}
		doc.Rules = append(doc.Rules, r)
	}
	settings, err := d.list(bp, "BackupPlan", "AdvancedBackupSettings", false)
	if err != nil {
		return spec, err
	}
	for i, sv := range settings {
		path := fmt.Sprintf("BackupPlan.AdvancedBackupSettings[%d]", i)
		sm, err := d.object(sv, path, "ResourceType", "BackupOptions")
		if err != nil {
			return spec, err
		}
		var s backup.AdvancedBackupSetting
		if s.ResourceType, err = d.str(sm, path, "ResourceType", true); err != nil {
			return spec, err
		}
		if s.BackupOptions, err = d.strMap(sm, path, "BackupOptions"); err != nil {
			return spec, err
		}
		doc.AdvancedBackupSettings = append(doc.AdvancedBackupSettings, s)
	}
	check := *doc
	check.Rules = slices.Clone(doc.Rules)
	if err := backup.ValidatePlanDocument(&check); err != nil {
		return spec, propErr("BackupPlan", "%s", message(err))
	}
	return spec, nil
}

// vaultName accepts a vault name or a vault ARN and returns the name.
func vaultName(s string) string {
	if a, err := backup.ParseARN(s); err == nil && a.Service == "backup" {
		if name, ok := strings.CutPrefix(a.Resource, "backup-vault:"); ok {
			return name
		}
	}
	return s
}

// decodeSelection reads an AWS::Backup::BackupSelection's properties and
// checks the selection as AWS does.
func decodeSelection(p map[string]any) (spec selectionSpec, err error) {
	var d props
	if _, err := d.object(p, "", "BackupPlanId", "BackupSelection"); err != nil {
		return spec, err
	}
	if spec.PlanID, err = d.str(p, "", "BackupPlanId", true); err != nil {
		return spec, err
	}
	sv, ok := p["BackupSelection"]
	if !ok {
		return spec, propErr("BackupSelection", "is required")
	}
	const path = "BackupSelection"
	sm, err := d.object(sv, path, "SelectionName", "IamRoleArn", "Resources", "NotResources", "ListOfTags", "Conditions")
	if err != nil {
		return spec, err
	}
	doc := &spec.Selection
	if doc.SelectionName, err = d.str(sm, path, "SelectionName", true); err != nil {
		return spec, err
	}
	if doc.IAMRoleARN, err = d.str(sm, path, "IamRoleArn", true); err != nil {
		return spec, err
	}
	if doc.Resources, err = d.strList(sm, path, "Resources"); err != nil {
		return spec, err
	}
	if doc.NotResources, err = d.strList(sm, path, "NotResources"); err != nil {
		return spec, err
	}
	tags, err := d.list(sm, path, "ListOfTags", false)
	if err != nil {
		return spec, err
	}
	for i, tv := range tags {
		tpath := fmt.Sprintf("%s.ListOfTags[%d]", path, i)
		tm, err := d.object(tv, tpath, "ConditionType", "ConditionKey", "ConditionValue")
		if err != nil {
			return spec, err
		}
		var c backup.TagCondition
		if c.ConditionType, err = d.str(tm, tpath, "ConditionType", true); err != nil {
			return spec, err
		}
		if c.ConditionType != backup.ConditionStringEquals {
			return spec, propErr(tpath+".ConditionType", "%q is not a condition type (the only one is %s)", c.ConditionType, backup.ConditionStringEquals)
		}
		if c.ConditionKey, err = d.str(tm, tpath, "ConditionKey", true); err != nil {
			return spec, err
		}
		if c.ConditionValue, err = d.str(tm, tpath, "ConditionValue", true); err != nil {
			return spec, err
		}
		doc.ListOfTags = append(doc.ListOfTags, c)
	}
	if cv, ok := sm["Conditions"]; ok && cv != nil {
		cpath := path + ".Conditions"
		cm, err := d.object(cv, cpath, "StringEquals", "StringNotEquals", "StringLike", "StringNotLike")
		if err != nil {
			return spec, err
		}
		for _, op := range []struct {
			name string
			into *[]backup.ConditionParameter
		}{{"StringEquals", &doc.Conditions.StringEquals}, {"StringNotEquals", &doc.Conditions.StringNotEquals},
			{"StringLike", &doc.Conditions.StringLike}, {"StringNotLike", &doc.Conditions.StringNotLike}} {
			l, err := d.list(cm, cpath, op.name, false)
			if err != nil {
				return spec, err
			}
			for i, ev := range l {
				epath := fmt.Sprintf("%s.%s[%d]", cpath, op.name, i)
				em, err := d.object(ev, epath, "ConditionKey", "ConditionValue")
				if err != nil {
					return spec, err
				}
				var c backup.ConditionParameter
				if c.ConditionKey, err = d.str(em, epath, "ConditionKey", true); err != nil {
					return spec, err
				}
				if c.ConditionValue, err = d.str(em, epath, "ConditionValue", true); err != nil {
					return spec, err
				}
				*op.into = append(*op.into, c)
			}
		}
	}
	check := *doc
	if err := backup.ValidateSelectionDocument(&check); err != nil {
		return spec, propErr("BackupSelection", "%s", message(err))
	}
	return spec, nil
}

// message returns the user-facing text of an error.
func message(err error) string {
	if e, ok := err.(*backup.Error); ok {
		return e.Message
	}
	return err.Error()
}

// placeholder returns the physical ID cairn reports for a resource it does
// not manage: its name property if the template sets one, else a name like
// CloudFormation generates (STACK-LOGICALID-SUFFIX), stable across applies.
func placeholder(stack, logicalID, typ string, nameProp string) string {
	if nameProp != "" {
		return nameProp
	}
	sum := sha256.Sum256([]byte(stack + "\x00" + logicalID + "\x00" + typ))
	suffix := base32.StdEncoding.EncodeToString(sum[:])[:12]
	name := stack + "-" + logicalID
	if len(name) > 50 {
		name = name[:50]
	}
	return name + "-" + suffix
}

// nameProperties is the property that names a resource of a type cairn
// does not manage, where the type has one.
var nameProperties = map[string]string{
	"AWS::IAM::Role":          "RoleName",
	"AWS::IAM::ManagedPolicy": "ManagedPolicyName",
	"AWS::IAM::User":          "UserName",
	"AWS::IAM::Group":         "GroupName",
	"AWS::SNS::Topic":         "TopicName",
	"AWS::KMS::Alias":         "AliasName",
	"AWS::DynamoDB::Table":    "TableName",
	"AWS::S3::Bucket":         "BucketName",
}

// placeholderAttr returns what Fn::GetAtt returns for a resource cairn does
// not manage: an ARN for Arn, the physical ID for names and ids.
func placeholderAttr(env Env, typ, physicalID, attr string) string {
	parts := strings.Split(typ, "::")
	service, kind := "", ""
	if len(parts) == 3 {
		service, kind = strings.ToLower(parts[1]), strings.ToLower(parts[2])
	}
	switch attr {
	case "Ref":
		return physicalID
	case "Arn":
		switch {
		case service == "iam":
			if kind == "managedpolicy" {
				kind = "policy"
			}
			return fmt.Sprintf("arn:%s:iam::%s:%s/%s", env.partition(), env.AccountID, kind, physicalID)
		case service == "s3":
			return fmt.Sprintf("arn:%s:s3:::%s", env.partition(), physicalID)
		case service == "sns" || service == "sqs":
			return fmt.Sprintf("arn:%s:%s:%s:%s:%s", env.partition(), service, env.Region, env.AccountID, physicalID)
		case service == "dynamodb" && kind == "table":
			return backup.TableARN(env.Region, env.AccountID, physicalID)
		}
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s/%s", env.partition(), service, env.Region, env.AccountID, kind, physicalID)
	case "RoleId", "UserId", "GroupId", "PolicyId":
		sum := sha256.Sum256([]byte(physicalID + attr))
		return "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
	}
	return physicalID
}
