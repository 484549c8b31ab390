package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Env is what a backup policy's documents are resolved against: the
// account id that replaces $account, and the server's home region (plans
// whose regions leave it out do not apply here).
type Env struct {
	AccountID string
	Region    string
}

// Plan is one plan of a backup policy: the plan and selections it implies.
type Plan struct {
	// Name is the plan's key under plans (the BackupPlanName).
	Name string
	// Regions are the regions the plan is for.
	Regions []string
	// Document is the plan, validated as CreateBackupPlan validates it and
	// with AWS's defaults filled in.
	Document backup.PlanDocument
	// Tags are the plan's backup_plan_tags.
	Tags map[string]string
	// Selections are its selections, validated, in document order (tags
	// selections, then resources selections).
	Selections []backup.SelectionDocument
}

// InRegion reports whether the plan is for region r.
func (p Plan) InRegion(r string) bool { return slices.Contains(p.Regions, r) }

// The selection keys of a backup policy.
const (
	selectionsTags      = "tags"
	selectionsResources = "resources"
)

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// ParseBackupPolicy validates a BACKUP_POLICY document and returns the
// plans it implies, in document order, with $account in ARNs replaced by
// env.AccountID. Values outside AWS Backup's limits are refused as
// CreateBackupPlan and CreateBackupSelection refuse them, with the path of
// the element at fault.
func ParseBackupPolicy(doc []byte, env Env) ([]Plan, error) {
	root, err := decode(doc)
	if err != nil {
		return nil, err
	}
	if err := section(root, "plans"); err != nil {
		return nil, err
	}
	plans := root.field("plans")
	if plans == nil {
		return nil, errorf("plans", "a backup policy needs \"plans\", with one element per backup plan")
	}
	if err := section(plans); err != nil {
		return nil, err
	}
	var out []Plan
	for _, name := range names(plans) {
		p, err := parsePlan(name, plans.obj[name], env)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errorf("plans", "no plan: name at least one under \"plans\"")
	}
	return out, nil
}

func parsePlan(name string, n *node, env Env) (Plan, error) {
	p := Plan{Name: name}
	if err := section(n, "regions", "rules", "selections", "advanced_backup_settings", "backup_plan_tags"); err != nil {
		return p, err
	}
	r := n.field("regions")
	if r == nil {
		return p, errorf(join(n.path, "regions"), "required: the regions the plan is for, e.g. {\"@@assign\": [\"%s\"]}", cmpOr(env.Region, "us-east-1"))
	}
	set, err := leaf(r, true)
	if err != nil {
		return p, err
	}
	if p.Regions, err = set.apply(nil); err != nil {
		return p, err
	}
	for i, reg := range p.Regions {
		if !regionRE.MatchString(reg) {
			return p, errorf(fmt.Sprintf("%s[%d]", set.path, i), "%q is not a region name such as us-east-1", reg)
		}
	}
	p.Document.BackupPlanName = name
	rules := n.field("rules")
	if rules == nil {
		return p, errorf(join(n.path, "rules"), "required: a plan needs at least one rule")
	}
	if err := section(rules); err != nil {
		return p, err
	}
	for _, rn := range names(rules) {
		rule, err := parseRule(rn, rules.obj[rn], env)
		if err != nil {
			return p, err
		}
		p.Document.Rules = append(p.Document.Rules, rule)
	}
	if a := n.field("advanced_backup_settings"); a != nil {
		if p.Document.AdvancedBackupSettings, err = parseAdvanced(a); err != nil {
			return p, err
		}
	}
	if t := n.field("backup_plan_tags"); t != nil {
		if p.Tags, err = parseTagMap(t); err != nil {
			return p, err
		}
		if err := backup.ValidateTags("BackupPlanTags", p.Tags); err != nil {
			return p, errorf(t.path, "%s", errMessage(err))
		}
	}
	if err := backup.ValidatePlanDocument(&p.Document); err != nil {
		return p, planError(n, p.Document, err)
	}
	sels := n.field("selections")
	if sels == nil {
		return p, errorf(join(n.path, "selections"), "required: a plan needs a selection of resources (selections.tags or selections.resources)")
	}
	if err := section(sels, selectionsTags, selectionsResources); err != nil {
		return p, err
	}
	seen := map[string]string{}
	for _, kind := range []string{selectionsTags, selectionsResources} {
		group := sels.field(kind)
		if group == nil {
			continue
		}
		if err := section(group); err != nil {
			return p, err
		}
		for _, sn := range names(group) {
			sn := sn
			sel, err := parseSelection(kind, sn, group.obj[sn], env)
			if err != nil {
				return p, err
			}
			if prev, dup := seen[sn]; dup {
				return p, errorf(group.obj[sn].path, "selection name %q is used by %s too; selection names are unique within a plan", sn, prev)
			}
			seen[sn] = group.obj[sn].path
			p.Selections = append(p.Selections, sel)
		}
	}
	if len(p.Selections) == 0 {
		return p, errorf(sels.path, "no selection: name at least one under selections.tags or selections.resources")
	}
	return p, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func parseRule(name string, n *node, env Env) (backup.BackupRule, error) {
	r := backup.BackupRule{RuleName: name}
	if err := section(n, "schedule_expression", "schedule_expression_timezone", "start_backup_window_minutes",
		"complete_backup_window_minutes", "enable_continuous_backup", "target_backup_vault_name", "lifecycle",
		"recovery_point_tags", "copy_actions"); err != nil {
		return r, err
	}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"schedule_expression", &r.ScheduleExpression}, {"schedule_expression_timezone", &r.ScheduleExpressionTimezone}, {"target_backup_vault_name", &r.TargetBackupVaultName}} {
		if *f.dst, err = scalar(n, f.key); err != nil {
			return r, err
		}
	}
	if r.TargetBackupVaultName == "" {
		return r, errorf(join(n.path, "target_backup_vault_name"), "required: the vault the rule's recovery points go to (for example Default)")
	}
	if r.StartWindowMinutes, err = integer(n, "start_backup_window_minutes"); err != nil {
		return r, err
	}
	if r.CompletionWindowMinutes, err = integer(n, "complete_backup_window_minutes"); err != nil {
		return r, err
	}
	if c := n.field("enable_continuous_backup"); c != nil {
		set, err := leaf(c, false)
		if err != nil {
			return r, err
		}
		if r.EnableContinuousBackup, err = set.boolean(); err != nil {
			return r, err
		}
	}
	if l := n.field("lifecycle"); l != nil {
		if r.Lifecycle, err = parseLifecycle(l); err != nil {
			return r, err
		}
	}
	if t := n.field("recovery_point_tags"); t != nil {
		if r.RecoveryPointTags, err = parseTagMap(t); err != nil {
			return r, err
		}
	}
	if c := n.field("copy_actions"); c != nil {
		if err := section(c); err != nil {
			return r, err
		}
		for _, k := range names(c) {
			a := c.obj[k]
			if err := section(a, "target_backup_vault_arn", "lifecycle"); err != nil {
				return r, err
			}
			var ca backup.CopyAction
			if ca.DestinationBackupVaultARN, err = scalar(a, "target_backup_vault_arn"); err != nil {
				return r, err
			}
			if ca.DestinationBackupVaultARN == "" {
				return r, errorf(join(a.path, "target_backup_vault_arn"), "required: the ARN of the vault to copy to")
			}
			ca.DestinationBackupVaultARN = substitute(ca.DestinationBackupVaultARN, env)
			if l := a.field("lifecycle"); l != nil {
				if ca.Lifecycle, err = parseLifecycle(l); err != nil {
					return r, err
				}
			}
			r.CopyActions = append(r.CopyActions, ca)
		}
	}
	return r, nil
}

func parseLifecycle(n *node) (backup.Lifecycle, error) {
	var l backup.Lifecycle
	if err := section(n, "move_to_cold_storage_after_days", "delete_after_days", "opt_in_to_archive_for_supported_resources"); err != nil {
		return l, err
	}
	var err error
	if l.MoveToColdStorageAfterDays, err = integer(n, "move_to_cold_storage_after_days"); err != nil {
		return l, err
	}
	if l.DeleteAfterDays, err = integer(n, "delete_after_days"); err != nil {
		return l, err
	}
	for _, f := range []struct {
		key string
		v   int64
	}{{"move_to_cold_storage_after_days", l.MoveToColdStorageAfterDays}, {"delete_after_days", l.DeleteAfterDays}} {
		if n.field(f.key) != nil && (f.v < 1 || f.v > backup.MaxLifecycleDays) {
			return l, errorf(join(n.path, f.key), "must be 1 to %d days; got %d", backup.MaxLifecycleDays, f.v)
		}
	}
	if o := n.field("opt_in_to_archive_for_supported_resources"); o != nil {
		set, err := leaf(o, false)
		if err != nil {
			return l, err
		}
		if _, err := set.boolean(); err != nil {
			return l, err
		}
	}
	return l, nil
}

// parseTagMap reads recovery_point_tags or backup_plan_tags:
// {"name": {"tag_key": ..., "tag_value": ...}}.
func parseTagMap(n *node) (map[string]string, error) {
	if err := section(n); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, k := range names(n) {
		e := n.obj[k]
		if err := section(e, "tag_key", "tag_value"); err != nil {
			return nil, err
		}
		key, err := scalar(e, "tag_key")
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, errorf(join(e.path, "tag_key"), "required: the tag's key")
		}
		val, err := scalar(e, "tag_value")
		if err != nil {
			return nil, err
		}
		if err := backup.ValidateTag("", key, val); err != nil {
			return nil, errorf(e.path, "%s", errMessage(err))
		}
		if _, dup := out[key]; dup {
			return nil, errorf(e.path, "tag key %q is set twice", key)
		}
		out[key] = val
	}
	return out, nil
}

// advancedNames maps the advanced_backup_settings of AWS's syntax to the
// API's names.
var advancedNames = map[string]struct {
	resourceType string
	options      map[string]string
}{
	"ec2": {"EC2", map[string]string{"windows_vss": "WindowsVSS"}},
}

func parseAdvanced(n *node) ([]backup.AdvancedBackupSetting, error) {
	if err := section(n, slices.Sorted(maps.Keys(advancedNames))...); err != nil {
		return nil, err
	}
	var out []backup.AdvancedBackupSetting
	for _, k := range names(n) {
		spec := advancedNames[k]
		e := n.obj[k]
		if err := section(e, slices.Sorted(maps.Keys(spec.options))...); err != nil {
			return nil, err
		}
		s := backup.AdvancedBackupSetting{ResourceType: spec.resourceType, BackupOptions: map[string]string{}}
		for _, o := range names(e) {
			v, err := scalar(e, o)
			if err != nil {
				return nil, err
			}
			if v != "enabled" && v != "disabled" {
				return nil, errorf(join(e.path, o), "must be \"enabled\" or \"disabled\"; got %q", v)
			}
			s.BackupOptions[spec.options[o]] = v
		}
		out = append(out, s)
	}
	return out, nil
}

func parseSelection(kind, name string, n *node, env Env) (backup.SelectionDocument, error) {
	d := backup.SelectionDocument{SelectionName: name}
	var err error
	if kind == selectionsTags {
		if err := section(n, "iam_role_arn", "tag_key", "tag_value"); err != nil {
			return d, err
		}
		key, err := scalar(n, "tag_key")
		if err != nil {
			return d, err
		}
		if key == "" {
			return d, errorf(join(n.path, "tag_key"), "required: the tag key that selects resources")
		}
		v := n.field("tag_value")
		if v == nil {
			return d, errorf(join(n.path, "tag_value"), "required: the tag values that select resources")
		}
		set, err := leaf(v, true)
		if err != nil {
			return d, err
		}
		vals, err := set.apply(nil)
		if err != nil {
			return d, err
		}
		if len(vals) == 0 {
			return d, errorf(set.path, "no value: name at least one tag value")
		}
		for _, val := range vals {
			d.ListOfTags = append(d.ListOfTags, backup.TagCondition{ConditionType: backup.ConditionStringEquals, ConditionKey: key, ConditionValue: val})
		}
	} else {
		if err := section(n, "iam_role_arn", "resource_types", "not_resource_types", "conditions"); err != nil {
			return d, err
		}
		for _, f := range []struct {
			key string
			dst *[]string
		}{{"resource_types", &d.Resources}, {"not_resource_types", &d.NotResources}} {
			e := n.field(f.key)
			if e == nil {
				continue
			}
			set, err := leaf(e, true)
			if err != nil {
				return d, err
			}
			if *f.dst, err = set.apply(nil); err != nil {
				return d, err
			}
			for i := range *f.dst {
				(*f.dst)[i] = substitute((*f.dst)[i], env)
			}
		}
		if d.Resources == nil {
			return d, errorf(join(n.path, "resource_types"), "required: the ARNs (wildcards allowed) of the resources to select, e.g. [\"arn:aws:dynamodb:*:*:table/*\"]")
		}
		if c := n.field("conditions"); c != nil {
			if d.Conditions, err = parseConditions(c); err != nil {
				return d, err
			}
		}
	}
	role, err := scalar(n, "iam_role_arn")
	if err != nil {
		return d, err
	}
	if role == "" {
		return d, errorf(join(n.path, "iam_role_arn"), "required: the role AWS Backup would use, e.g. arn:aws:iam::$account:role/service-role/AWSBackupDefaultServiceRole")
	}
	d.IAMRoleARN = substitute(role, env)
	if err := backup.ValidateSelectionDocument(&d); err != nil {
		return d, selectionError(n, d, err)
	}
	return d, nil
}

var conditionGroups = []string{"string_equals", "string_not_equals", "string_like", "string_not_like"}

func parseConditions(n *node) (backup.Conditions, error) {
	var c backup.Conditions
	if err := section(n, conditionGroups...); err != nil {
		return c, err
	}
	dsts := []*[]backup.ConditionParameter{&c.StringEquals, &c.StringNotEquals, &c.StringLike, &c.StringNotLike}
	for i, g := range conditionGroups {
		group := n.field(g)
		if group == nil {
			continue
		}
		if err := section(group); err != nil {
			return c, err
		}
		for _, k := range names(group) {
			e := group.obj[k]
			if err := section(e, "condition_key", "condition_value"); err != nil {
				return c, err
			}
			key, err := scalar(e, "condition_key")
			if err != nil {
				return c, err
			}
			val, err := scalar(e, "condition_value")
			if err != nil {
				return c, err
			}
			if key == "" {
				return c, errorf(join(e.path, "condition_key"), "required: aws:ResourceTag/KEY")
			}
			*dsts[i] = append(*dsts[i], backup.ConditionParameter{ConditionKey: key, ConditionValue: val})
		}
	}
	return c, nil
}

// substitute replaces $account by the server's account id.
func substitute(s string, env Env) string {
	return strings.ReplaceAll(s, "$account", env.AccountID)
}

// scalar reads the string setting k of section n; "" when absent.
func scalar(n *node, k string) (string, error) {
	e := n.field(k)
	if e == nil {
		return "", nil
	}
	set, err := leaf(e, false)
	if err != nil {
		return "", err
	}
	return set.str()
}

// integer reads the whole-number setting k of section n, written as a
// string ("30", as AWS's examples do) or a JSON number; 0 when absent.
func integer(n *node, k string) (int64, error) {
	e := n.field(k)
	if e == nil {
		return 0, nil
	}
	s, err := leaf(e, false)
	if err != nil {
		return 0, err
	}
	if s.val.kind != kString && s.val.kind != kNumber {
		return 0, errorf(s.path, "must be a whole number such as \"30\"; got %s", s.val.kind)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s.val.text), 10, 64)
	if err != nil || v < 0 {
		return 0, errorf(s.path, "must be a whole number such as \"30\"; got %q", s.val.text)
	}
	return v, nil
}

// boolean reads a setting whose value is true or false (or "true",
// "false").
func (s *setting) boolean() (bool, error) {
	if (s.val.kind == kBool || s.val.kind == kString) && (s.val.text == "true" || s.val.text == "false") {
		return s.val.text == "true", nil
	}
	return false, errorf(s.path, "must be true or false; got %s %q", s.val.kind, s.val.text)
}

// planFields maps the fields ValidatePlanDocument names to the policy's.
var planFields = map[string]string{
	"RuleName":                             "",
	"TargetBackupVaultName":                "target_backup_vault_name",
	"ScheduleExpression":                   "schedule_expression",
	"ScheduleExpressionTimezone":           "schedule_expression_timezone",
	"StartWindowMinutes":                   "start_backup_window_minutes",
	"CompletionWindowMinutes":              "complete_backup_window_minutes",
	"RecoveryPointTags":                    "recovery_point_tags",
	"Lifecycle.MoveToColdStorageAfterDays": "lifecycle.move_to_cold_storage_after_days",
	"Lifecycle.DeleteAfterDays":            "lifecycle.delete_after_days",
	"DestinationBackupVaultARN":            "target_backup_vault_arn",
}

var indexed = regexp.MustCompile(`^(Rules|CopyActions|AdvancedBackupSettings)\[(\d+)\]\.?`)

// planError turns an error of ValidatePlanDocument, which names the
// API's fields (Rules[0].Lifecycle.DeleteAfterDays), into one naming the
// policy's path (plans.P.rules.R.lifecycle.delete_after_days).
func planError(n *node, d backup.PlanDocument, err error) error {
	e, ok := err.(*backup.Error)
	if !ok {
		return errorf(n.path, "%v", err)
	}
	ctx, path := e.Context, n.path
	if m := indexed.FindStringSubmatch(ctx); m != nil && m[1] == "Rules" {
		i, _ := strconv.Atoi(m[2])
		ctx = ctx[len(m[0]):]
		path = join(path, "rules."+d.Rules[i].RuleName)
		if c := indexed.FindStringSubmatch(ctx); c != nil && c[1] == "CopyActions" {
			j, _ := strconv.Atoi(c[2])
			ctx = ctx[len(c[0]):]
			path = join(path, "copy_actions."+copyKey(n, d.Rules[i].RuleName, j))
		}
		if f, ok := planFields[ctx]; ok {
			path = join(path, f)
		} else if f, ok := planFields[strings.TrimPrefix(ctx, "Lifecycle.")]; ok && strings.HasPrefix(ctx, "Lifecycle.") {
			path = join(path, f)
		} else if ctx == "Lifecycle" || strings.HasPrefix(ctx, "Lifecycle.") {
			path = join(path, "lifecycle."+snake(strings.TrimPrefix(ctx, "Lifecycle.")))
		}
	} else if strings.HasPrefix(ctx, "AdvancedBackupSettings") {
		path = join(path, "advanced_backup_settings")
	}
	return errorf(path, "%s", e.Message)
}

// copyKey returns the key of the j-th copy action of rule r in the
// document.
func copyKey(plan *node, rule string, j int) string {
	if c := plan.field("rules").field(rule).field("copy_actions"); c != nil {
		if ks := names(c); j < len(ks) {
			return ks[j]
		}
	}
	return strconv.Itoa(j)
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// selectionError turns an error of ValidateSelectionDocument into one
// naming the policy's path.
func selectionError(n *node, d backup.SelectionDocument, err error) error {
	e, ok := err.(*backup.Error)
	if !ok {
		return errorf(n.path, "%v", err)
	}
	ctx, path := e.Context, n.path
	switch {
	case ctx == "IamRoleArn":
		path = join(path, "iam_role_arn")
	case ctx == "SelectionName":
	case strings.HasPrefix(ctx, "ListOfTags"):
		if strings.HasSuffix(ctx, "ConditionKey") {
			path = join(path, "tag_key")
		} else {
			path = join(path, "tag_value")
		}
	case strings.HasPrefix(ctx, "NotResources"):
		path = join(path, "not_resource_types")
	case strings.HasPrefix(ctx, "Resources"):
		path = join(path, "resource_types")
	case strings.HasPrefix(ctx, "Conditions"):
		path = join(path, "conditions")
		if m := regexp.MustCompile(`^Conditions\.(\w+)\[(\d+)\]`).FindStringSubmatch(ctx); m != nil {
			g := snake(m[1])
			i, _ := strconv.Atoi(m[2])
			path = join(path, g)
			if grp := n.field("conditions").field(g); grp != nil {
				if ks := names(grp); i < len(ks) {
					path = join(path, ks[i])
				}
			}
		}
	}
	return errorf(path, "%s", e.Message)
}
