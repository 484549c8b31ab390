package awsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// fromPlanInput checks a request's plan as far as the model states
// (required members, names, windows, lifecycles, ARNs, what cairn does not
// support) and returns it as a domain document, as given. The deeper rules
// are backup.ValidatePlanDocument's, which checkPlan runs.
func fromPlanInput(name string, in *backupPlanInput) (backup.PlanDocument, error) {
	var d backup.PlanDocument
	if in == nil {
		return d, missingParam(name)
	}
	if err := required(member{name + ".BackupPlanName", in.BackupPlanName}); err != nil {
		return d, err
	}
	d.BackupPlanName = *in.BackupPlanName
	switch {
	case in.Rules == nil:
		return d, missingParam(name + ".Rules")
	case len(in.Rules) == 0:
		return d, invalidParam("%s.Rules is empty; a backup plan needs at least one rule", name)
	case len(in.ScanSettings) > 0:
		return d, invalidParam("%s.ScanSettings is not supported: cairn does not scan recovery points for malware; remove it", name)
	}
	for i, a := range in.AdvancedBackupSettings {
		if !resourceTypePattern.MatchString(a.ResourceType) {
			return d, invalidParam("%s.AdvancedBackupSettings[%d].ResourceType %q does not match the pattern %s",
				name, i, a.ResourceType, resourceTypePattern)
		}
		d.AdvancedBackupSettings = append(d.AdvancedBackupSettings,
			backup.AdvancedBackupSetting{ResourceType: a.ResourceType, BackupOptions: a.BackupOptions})
	}
	for i := range in.Rules {
		r, err := fromRuleInput(fmt.Sprintf("%s.Rules[%d]", name, i), &in.Rules[i])
		if err != nil {
			return d, err
		}
		d.Rules = append(d.Rules, r)
	}
	return d, nil
}

func fromRuleInput(name string, in *backupRuleInput) (backup.BackupRule, error) {
	var r backup.BackupRule
	if err := required(
		member{name + ".RuleName", in.RuleName},
		member{name + ".TargetBackupVaultName", in.TargetBackupVaultName},
	); err != nil {
		return r, err
	}
	if !namePattern.MatchString(*in.RuleName) {
		return r, invalidParam("%s.RuleName %q must be 1 to 50 letters, digits, '-', '_' or '.'", name, *in.RuleName)
	}
	if err := backup.ValidateVaultName(*in.TargetBackupVaultName); err != nil {
		return r, inMember(name+".TargetBackupVaultName", err)
	}
	switch {
	case in.TargetLogicallyAirGappedBackupVaultArn != "":
		return r, invalidParam("%s.TargetLogicallyAirGappedBackupVaultArn is not supported: cairn has no logically air-gapped vaults", name)
	case len(in.IndexActions) > 0:
		return r, invalidParam("%s.IndexActions is not supported: cairn does not index recovery points", name)
	case len(in.ScanActions) > 0:
		return r, invalidParam("%s.ScanActions is not supported: cairn does not scan recovery points for malware", name)
	}
	// The windows as given: an explicit 0 is refused.
	if _, _, err := backup.ValidateWindows("StartWindowMinutes", in.StartWindowMinutes, "CompletionWindowMinutes", in.CompletionWindowMinutes); err != nil {
		return r, inMember(name, err)
	}
	lc, err := fromLifecycle(name+".Lifecycle", in.Lifecycle)
	if err != nil {
		return r, err
	}
	if err := backup.ValidateTags(name+".RecoveryPointTags", in.RecoveryPointTags); err != nil {
		return r, err
	}
	r = backup.BackupRule{
		RuleName:                   *in.RuleName,
		TargetBackupVaultName:      *in.TargetBackupVaultName,
		ScheduleExpression:         in.ScheduleExpression,
		ScheduleExpressionTimezone: in.ScheduleExpressionTimezone,
		Lifecycle:                  lc,
		RecoveryPointTags:          in.RecoveryPointTags,
		EnableContinuousBackup:     in.EnableContinuousBackup,
	}
	if in.StartWindowMinutes != nil {
		r.StartWindowMinutes = *in.StartWindowMinutes
	}
	if in.CompletionWindowMinutes != nil {
		r.CompletionWindowMinutes = *in.CompletionWindowMinutes
	}
	for i, c := range in.CopyActions {
		cname := fmt.Sprintf("%s.CopyActions[%d]", name, i)
		if err := required(member{cname + ".DestinationBackupVaultArn", c.DestinationBackupVaultArn}); err != nil {
			return r, err
		}
		if err := checkVaultARN(cname+".DestinationBackupVaultArn", *c.DestinationBackupVaultArn); err != nil {
			return r, err
		}
		clc, err := fromLifecycle(cname+".Lifecycle", c.Lifecycle)
		if err != nil {
			return r, err
		}
		r.CopyActions = append(r.CopyActions, backup.CopyAction{DestinationBackupVaultARN: *c.DestinationBackupVaultArn, Lifecycle: clc})
	}
	return r, nil
}

// checkPlan runs backup.ValidatePlanDocument on a copy of d, which it may
// fill with defaults, and returns that copy.
func checkPlan(d backup.PlanDocument) (backup.PlanDocument, error) {
	d.Rules = slices.Clone(d.Rules)
	for i := range d.Rules {
		d.Rules[i].CopyActions = slices.Clone(d.Rules[i].CopyActions)
	}
	d.AdvancedBackupSettings = slices.Clone(d.AdvancedBackupSettings)
	if err := backup.ValidatePlanDocument(&d); err != nil {
		return d, err
	}
	return d, nil
}

// planID reads and validates the backupPlanId path member.
func planID(q *request) (string, error) {
	id := q.path("backupPlanId")
	return id, checkID("BackupPlanId", id)
}

func (s *Server) createBackupPlan(q *request) (any, error) {
	var in createBackupPlanInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	doc, err := fromPlanInput("BackupPlan", in.BackupPlan)
	if err != nil {
		return nil, err
	}
	if err := backup.ValidateTags("BackupPlanTags", in.BackupPlanTags); err != nil {
		return nil, err
	}
	if _, err := checkPlan(doc); err != nil {
		return nil, err
	}
	p, err := s.svc.CreateBackupPlan(q.ctx(), backup.CreateBackupPlanInput{
		Plan: doc, Tags: in.BackupPlanTags, CreatorRequestID: in.CreatorRequestId,
	})
	if err != nil {
		return nil, err
	}
	return createBackupPlanOutput{
		BackupPlanId: p.ID, BackupPlanArn: p.ARN, CreationDate: epoch(p.CreationDate), VersionId: p.VersionID,
		AdvancedBackupSettings: toAdvancedBackupSettings(p.AdvancedBackupSettings),
	}, nil
}

func (s *Server) getBackupPlan(q *request) (any, error) {
	id, err := planID(q)
	if err != nil {
		return nil, err
	}
	version := q.pattern("versionId", versionIDPattern)
	runs := q.integer("MaxScheduledRunsPreview", 0, 10, 0)
	if err := q.err(); err != nil {
		return nil, err
	}
	p, preview, err := s.svc.GetBackupPlan(q.ctx(), id, version, runs)
	if err != nil {
		return nil, err
	}
	return toGetBackupPlanOutput(p, preview), nil
}

func (s *Server) listBackupPlans(q *request) (any, error) {
	f := backup.BackupPlanFilter{Page: q.page(), IncludeDeleted: q.boolean("includeDeleted")}
	if err := q.err(); err != nil {
		return nil, err
	}
	plans, next, err := s.svc.ListBackupPlans(q.ctx(), f)
	if err != nil {
		return nil, err
	}
	out := listBackupPlansOutput{BackupPlansList: []backupPlansListMember{}, NextToken: next}
	for _, p := range plans {
		out.BackupPlansList = append(out.BackupPlansList, toBackupPlansListMember(p))
	}
	return out, nil
}

func (s *Server) listBackupPlanVersions(q *request) (any, error) {
	id, err := planID(q)
	if err != nil {
		return nil, err
	}
	page := q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	plans, next, err := s.svc.ListBackupPlanVersions(q.ctx(), id, page)
	if err != nil {
		return nil, err
	}
	out := listBackupPlanVersionsOutput{BackupPlanVersionsList: []backupPlansListMember{}, NextToken: next}
	for _, p := range plans {
		out.BackupPlanVersionsList = append(out.BackupPlanVersionsList, toBackupPlansListMember(p))
	}
	return out, nil
}

func (s *Server) updateBackupPlan(q *request) (any, error) {
	id, err := planID(q)
	if err != nil {
		return nil, err
	}
	var in updateBackupPlanInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	doc, err := fromPlanInput("BackupPlan", in.BackupPlan)
	if err != nil {
		return nil, err
	}
	if _, err := checkPlan(doc); err != nil {
		return nil, err
	}
	p, err := s.svc.UpdateBackupPlan(q.ctx(), id, doc)
	if err != nil {
		return nil, err
	}
	return createBackupPlanOutput{
		BackupPlanId: p.ID, BackupPlanArn: p.ARN, CreationDate: epoch(p.CreationDate), VersionId: p.VersionID,
		AdvancedBackupSettings: toAdvancedBackupSettings(p.AdvancedBackupSettings),
	}, nil
}

func (s *Server) deleteBackupPlan(q *request) (any, error) {
	id, err := planID(q)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.DeleteBackupPlan(q.ctx(), id)
	if err != nil {
		return nil, err
	}
	return deleteBackupPlanOutput{BackupPlanId: p.ID, BackupPlanArn: p.ARN, DeletionDate: epoch(p.DeletionDate), VersionId: p.VersionID}, nil
}

// getBackupPlanFromJSON checks a plan document and returns it as AWS would
// store it, defaults filled in. It calls no service: nothing is stored.
func (s *Server) getBackupPlanFromJSON(q *request) (any, error) {
	var in getBackupPlanFromJSONInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := required(member{"BackupPlanTemplateJson", in.BackupPlanTemplateJson}); err != nil {
		return nil, err
	}
	doc, err := parsePlanTemplate(*in.BackupPlanTemplateJson)
	if err != nil {
		return nil, err
	}
	doc, err = checkPlan(doc)
	if err != nil {
		return nil, err
	}
	return getBackupPlanFromJSONOutput{BackupPlan: toBackupPlan(&doc)}, nil
}

// parsePlanTemplate reads a backup plan document: a BackupPlanInput as
// JSON, either alone or as the member BackupPlan of an object (as AWS's
// documentation and GetBackupPlan show it). Errors say where the document
// is at fault.
func parsePlanTemplate(doc string) (backup.PlanDocument, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return backup.PlanDocument{}, templateError(doc, err)
	}
	name := "BackupPlanTemplateJson"
	var target any
	var plan backupPlanInput
	var wrapped struct{ BackupPlan *backupPlanInput }
	if _, ok := top["BackupPlan"]; ok {
		target = &wrapped
		name += ".BackupPlan"
	} else {
		target = &plan
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return backup.PlanDocument{}, templateError(doc, err)
	}
	in := &plan
	if target == &wrapped {
		in = wrapped.BackupPlan
	}
	return fromPlanInput(name, in)
}

// templateError turns a JSON error about doc into an
// InvalidParameterValueException that says where doc is at fault.
func templateError(doc string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(doc, syn.Offset)
		return invalidParam("BackupPlanTemplateJson is not valid JSON at line %d, column %d: %s", line, col, syn.Error())
	case errors.As(err, &typ):
		line, col := position(doc, typ.Offset)
		where := typ.Field
		if where == "" {
			return invalidParam("BackupPlanTemplateJson must be a JSON object, not %s", withArticle(typ.Value))
		}
		return invalidParam("BackupPlanTemplateJson member %s at line %d, column %d must be %s, not %s",
			where, line, col, withArticle(jsonKind(typ.Type.Kind().String())), withArticle(typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalidParam("BackupPlanTemplateJson has the member %s, which a backup plan does not have; check its spelling",
			strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return invalidParam("BackupPlanTemplateJson is not a backup plan document: %v", err)
}

// position returns the 1-based line and column of byte offset off in s.
func position(s string, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(s)))
	before := s[:off]
	line = strings.Count(before, "\n") + 1
	col = int(off) - strings.LastIndexByte(before, '\n')
	return line, col
}

// withArticle puts "a" or "an" before a noun.
func withArticle(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// jsonKind names a Go kind as a JSON type.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int64", "int32", "float64":
		return "number"
	case "slice":
		return "list"
	case "map", "struct":
		return "object"
	case "bool":
		return "boolean"
	}
	return kind
}
