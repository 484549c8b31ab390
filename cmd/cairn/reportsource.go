package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/report"
)

// frameworkEvaluator gives the report plans' compliance templates the
// evaluation of the frameworks they name (all the server's frameworks if
// none), from the framework service (runner.Service.EvaluateFramework).
// svc is called late: the report service is made before the runner.
func frameworkEvaluator(svc func() backup.FrameworkService) report.Evaluator {
	return func(ctx context.Context, arns []string) ([]report.ControlResult, []report.ResourceResult, error) {
		fs := svc()
		var all []*backup.Framework
		page := backup.Page{MaxResults: 1000}
		for {
			got, next, err := fs.ListFrameworks(ctx, page)
			if err != nil {
				return nil, nil, fmt.Errorf("list frameworks: %w", err)
			}
			all = append(all, got...)
			if next == "" {
				break
			}
			page.NextToken = next
		}
		chosen := all
		if len(arns) > 0 {
			byARN := map[string]*backup.Framework{}
			for _, f := range all {
				byARN[f.ARN] = f
			}
			chosen = nil
			for _, a := range arns {
				f, ok := byARN[a]
				if !ok {
					return nil, nil, backup.Errorf(backup.ErrInvalidParameter,
						"framework %s of the report plan's FrameworkArns does not exist (deleted?); update the plan's ReportSetting", a)
				}
				chosen = append(chosen, f)
			}
		}
		var controls []report.ControlResult
		var resources []report.ResourceResult
		for _, f := range chosen {
			ev, err := fs.EvaluateFramework(ctx, f.Name)
			if err != nil {
				return nil, nil, fmt.Errorf("evaluate framework %s: %w", f.Name, err)
			}
			for _, c := range ev.Controls {
				ok, bad := c.Counts()
				controls = append(controls, report.ControlResult{FrameworkName: f.Name, FrameworkDescription: f.Description,
					ControlName: c.ControlName, Status: string(c.Compliance), LastEvaluationTime: ev.EvaluatedAt,
					NumResourcesCompliant: int64(ok), NumNonCompliant: int64(bad),
					Scope: scopeText(c.Scope), Parameters: paramsText(c.Parameters)})
				for _, r := range c.Resources {
					typ := r.ResourceType // AWS Config's names (AWS::DynamoDB::Table, ...)
					resources = append(resources, report.ResourceResult{FrameworkName: f.Name, FrameworkDescription: f.Description,
						ControlName: c.ControlName, ResourceID: typ + "/" + resourceID(r), ResourceType: typ,
						Status: string(r.Compliance), LastEvaluationTime: ev.EvaluatedAt})
				}
			}
		}
		return controls, resources, nil
	}
}

// resourceID is a table's name, or the last part of another resource's
// ARN.
func resourceID(r backup.ResourceEvaluation) string {
	if r.ResourceType == "AWS::DynamoDB::Table" {
		if name := backup.TableNameFromARN(r.ResourceARN); name != "" {
			return name
		}
	}
	return r.ResourceARN[strings.LastIndex(r.ResourceARN, ":")+1:]
}

// scopeText is a control's scope as JSON with AWS's member names; "" for
// none.
func scopeText(s backup.ControlScope) string {
	if len(s.ComplianceResourceIDs) == 0 && len(s.ComplianceResourceTypes) == 0 && len(s.Tags) == 0 {
		return ""
	}
	v := struct {
		ComplianceResourceIds   []string          `json:",omitempty"`
		ComplianceResourceTypes []string          `json:",omitempty"`
		Tags                    map[string]string `json:",omitempty"`
	}{s.ComplianceResourceIDs, s.ComplianceResourceTypes, s.Tags}
	b, _ := json.Marshal(v)
	return string(b)
}

// paramsText is a control's parameters as a JSON object, as AWS's sample
// report has them; "" for none.
func paramsText(p map[string]string) string {
	if len(p) == 0 {
		return ""
	}
	b, _ := json.Marshal(p)
	return string(b)
}
