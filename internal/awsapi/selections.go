package awsapi

import (
	"fmt"
	"slices"

	"github.com/cairn-backup/cairn/internal/backup"
)

// fromSelection checks a request's selection as far as the model states
// and returns it as a domain document. The deeper rules are
// backup.ValidateSelectionDocument's.
func fromSelection(in *backupSelection) (backup.SelectionDocument, error) {
	const name = "BackupSelection"
	var d backup.SelectionDocument
	if in == nil {
		return d, missingParam(name)
	}
	if err := required(
		member{name + ".SelectionName", in.SelectionName},
		member{name + ".IamRoleArn", in.IamRoleArn},
	); err != nil {
		return d, err
	}
	if !namePattern.MatchString(*in.SelectionName) {
		return d, invalidParam("%s.SelectionName %q must be 1 to 50 letters, digits, '-', '_' or '.'", name, *in.SelectionName)
	}
	if err := checkRoleARN(*in.IamRoleArn); err != nil {
		return d, inMember(name+".IamRoleArn", err)
	}
	d.SelectionName, d.IAMRoleARN = *in.SelectionName, *in.IamRoleArn
	for _, l := range []struct {
		member string
		arns   []string
		into   *[]string
	}{{"Resources", in.Resources, &d.Resources}, {"NotResources", in.NotResources, &d.NotResources}} {
		for i, arn := range l.arns {
			if arn == "*" {
				continue
			}
			if _, err := backup.ParseARN(arn); err != nil {
				return d, inMember(fmt.Sprintf("%s.%s[%d]", name, l.member, i), err)
			}
		}
		*l.into = l.arns
	}
	for i, c := range in.ListOfTags {
		cname := fmt.Sprintf("%s.ListOfTags[%d]", name, i)
		if err := required(member{cname + ".ConditionType", c.ConditionType}, member{cname + ".ConditionKey", c.ConditionKey}); err != nil {
			return d, err
		}
		if c.ConditionValue == nil {
			return d, missingParam(cname + ".ConditionValue")
		}
		if *c.ConditionType != backup.ConditionStringEquals {
			return d, invalidParam("%s.ConditionType %q is not supported; the only condition type of ListOfTags is %s",
				cname, *c.ConditionType, backup.ConditionStringEquals)
		}
		d.ListOfTags = append(d.ListOfTags, backup.TagCondition{
			ConditionType: *c.ConditionType, ConditionKey: *c.ConditionKey, ConditionValue: *c.ConditionValue,
		})
	}
	if c := in.Conditions; c != nil {
		for _, l := range []struct {
			member string
			params []conditionParameter
			into   *[]backup.ConditionParameter
		}{
			{"StringEquals", c.StringEquals, &d.Conditions.StringEquals},
			{"StringNotEquals", c.StringNotEquals, &d.Conditions.StringNotEquals},
			{"StringLike", c.StringLike, &d.Conditions.StringLike},
			{"StringNotLike", c.StringNotLike, &d.Conditions.StringNotLike},
		} {
			for i, p := range l.params {
				pname := fmt.Sprintf("%s.Conditions.%s[%d]", name, l.member, i)
				if err := required(member{pname + ".ConditionKey", p.ConditionKey}); err != nil {
					return d, err
				}
				if p.ConditionValue == nil {
					return d, missingParam(pname + ".ConditionValue")
				}
				*l.into = append(*l.into, backup.ConditionParameter{ConditionKey: *p.ConditionKey, ConditionValue: *p.ConditionValue})
			}
		}
	}
	return d, nil
}

// selectionRef reads and validates the backupPlanId and selectionId path
// members.
func selectionRef(q *request) (plan, sel string, err error) {
	plan, sel = q.path("backupPlanId"), q.path("selectionId")
	if err := checkID("BackupPlanId", plan); err != nil {
		return "", "", err
	}
	if err := checkID("SelectionId", sel); err != nil {
		return "", "", err
	}
	return plan, sel, nil
}

func (s *Server) createBackupSelection(q *request) (any, error) {
	plan, err := planID(q)
	if err != nil {
		return nil, err
	}
	var in createBackupSelectionInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	doc, err := fromSelection(in.BackupSelection)
	if err != nil {
		return nil, err
	}
	check := doc
	check.Resources, check.NotResources = slices.Clone(doc.Resources), slices.Clone(doc.NotResources)
	check.ListOfTags = slices.Clone(doc.ListOfTags)
	check.Conditions = backup.Conditions{
		StringEquals: slices.Clone(doc.Conditions.StringEquals), StringNotEquals: slices.Clone(doc.Conditions.StringNotEquals),
		StringLike: slices.Clone(doc.Conditions.StringLike), StringNotLike: slices.Clone(doc.Conditions.StringNotLike),
	}
	if err := backup.ValidateSelectionDocument(&check); err != nil {
		return nil, err
	}
	sel, err := s.svc.CreateBackupSelection(q.ctx(), backup.CreateBackupSelectionInput{
		BackupPlanID: plan, Selection: doc, CreatorRequestID: in.CreatorRequestId,
	})
	if err != nil {
		return nil, err
	}
	return createBackupSelectionOutput{SelectionId: sel.SelectionID, BackupPlanId: sel.BackupPlanID, CreationDate: epoch(sel.CreationDate)}, nil
}

func (s *Server) getBackupSelection(q *request) (any, error) {
	plan, id, err := selectionRef(q)
	if err != nil {
		return nil, err
	}
	sel, err := s.svc.GetBackupSelection(q.ctx(), plan, id)
	if err != nil {
		return nil, err
	}
	return getBackupSelectionOutput{
		BackupSelection:  toBackupSelection(&sel.SelectionDocument),
		SelectionId:      sel.SelectionID,
		BackupPlanId:     sel.BackupPlanID,
		CreationDate:     epoch(sel.CreationDate),
		CreatorRequestId: sel.CreatorRequestID,
	}, nil
}

func (s *Server) listBackupSelections(q *request) (any, error) {
	plan, err := planID(q)
	if err != nil {
		return nil, err
	}
	page := q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	sels, next, err := s.svc.ListBackupSelections(q.ctx(), plan, page)
	if err != nil {
		return nil, err
	}
	out := listBackupSelectionsOutput{BackupSelectionsList: []backupSelectionsListMember{}, NextToken: next}
	for _, sel := range sels {
		out.BackupSelectionsList = append(out.BackupSelectionsList, backupSelectionsListMember{
			SelectionId: sel.SelectionID, SelectionName: sel.SelectionName, BackupPlanId: sel.BackupPlanID,
			CreationDate: epoch(sel.CreationDate), CreatorRequestId: sel.CreatorRequestID, IamRoleArn: sel.IAMRoleARN,
		})
	}
	return out, nil
}

func (s *Server) deleteBackupSelection(q *request) (any, error) {
	plan, id, err := selectionRef(q)
	if err != nil {
		return nil, err
	}
	return nil, s.svc.DeleteBackupSelection(q.ctx(), plan, id)
}
