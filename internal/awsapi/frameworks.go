package awsapi

import (
	"strconv"

	"github.com/cairn-backup/cairn/internal/backup"
)

// AWS Backup Audit Manager frameworks: CreateFramework, DescribeFramework,
// ListFrameworks, UpdateFramework, DeleteFramework, and cairn's own
// evaluation of a framework (GET /cairn/frameworks/{frameworkName}/evaluation).

type controlInputParameter struct {
	ParameterName  string
	ParameterValue string
}

type controlScope struct {
	ComplianceResourceIds   []string          `json:",omitempty"`
	ComplianceResourceTypes []string          `json:",omitempty"`
	Tags                    map[string]string `json:",omitempty"`
}

type frameworkControl struct {
	ControlName            string
	ControlInputParameters []controlInputParameter `json:",omitempty"`
	ControlScope           *controlScope           `json:",omitempty"`
}

type createFrameworkInput struct {
	FrameworkName        string
	FrameworkDescription string
	FrameworkControls    *[]frameworkControl
	IdempotencyToken     string
	FrameworkTags        map[string]string
}

type createFrameworkOutput struct {
	FrameworkName string
	FrameworkArn  string
}

type describeFrameworkOutput struct {
	FrameworkName        string
	FrameworkArn         string
	FrameworkDescription string `json:",omitempty"`
	FrameworkControls    []frameworkControl
	CreationTime         epoch
	DeploymentStatus     string
	FrameworkStatus      string
	IdempotencyToken     string `json:",omitempty"`
}

type frameworkListMember struct {
	FrameworkName        string
	FrameworkArn         string
	FrameworkDescription string `json:",omitempty"`
	NumberOfControls     int
	CreationTime         epoch
	DeploymentStatus     string
}

type listFrameworksOutput struct {
	Frameworks []frameworkListMember
	NextToken  string `json:",omitempty"`
}

type updateFrameworkInput struct {
	FrameworkDescription *string
	FrameworkControls    *[]frameworkControl
	IdempotencyToken     string
}

type updateFrameworkOutput struct {
	FrameworkName string
	FrameworkArn  string
	CreationTime  epoch
}

func fromWireControls(in []frameworkControl) []backup.FrameworkControl {
	out := make([]backup.FrameworkControl, len(in))
	for i, c := range in {
		out[i].Name = c.ControlName
		for _, p := range c.ControlInputParameters {
			out[i].InputParameters = append(out[i].InputParameters, backup.ControlInputParameter{Name: p.ParameterName, Value: p.ParameterValue})
		}
		if c.ControlScope != nil {
			out[i].Scope = backup.ControlScope{ComplianceResourceIDs: c.ControlScope.ComplianceResourceIds,
				ComplianceResourceTypes: c.ControlScope.ComplianceResourceTypes, Tags: c.ControlScope.Tags}
		}
	}
	return out
}

func toWireControls(in []backup.FrameworkControl) []frameworkControl {
	out := make([]frameworkControl, len(in))
	for i, c := range in {
		out[i].ControlName = c.Name
		for _, p := range c.InputParameters {
			out[i].ControlInputParameters = append(out[i].ControlInputParameters, controlInputParameter{p.Name, p.Value})
		}
		if !c.Scope.IsZero() {
			out[i].ControlScope = &controlScope{c.Scope.ComplianceResourceIDs, c.Scope.ComplianceResourceTypes, c.Scope.Tags}
		}
	}
	return out
}

// checkFrameworkName validates the frameworkName path member.
func checkFrameworkName(name string) error {
	return backup.ValidateFrameworkName(name)
}

func (s *Server) createFramework(q *request) (any, error) {
	var in createFrameworkInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := backup.ValidateFrameworkName(in.FrameworkName); err != nil {
		return nil, err
	}
	if in.FrameworkControls == nil {
		return nil, missingParam("FrameworkControls")
	}
	if err := backup.ValidateFrameworkDescription(in.FrameworkDescription); err != nil {
		return nil, err
	}
	controls := fromWireControls(*in.FrameworkControls)
	if err := backup.ValidateFrameworkControls(controls); err != nil {
		return nil, err
	}
	if err := backup.ValidateTags("FrameworkTags", in.FrameworkTags); err != nil {
		return nil, err
	}
	f, err := s.svc.CreateFramework(q.ctx(), backup.CreateFrameworkInput{
		Name: in.FrameworkName, Description: in.FrameworkDescription, Controls: controls,
		IdempotencyToken: in.IdempotencyToken, Tags: in.FrameworkTags,
	})
	if err != nil {
		return nil, err
	}
	return createFrameworkOutput{FrameworkName: f.Name, FrameworkArn: f.ARN}, nil
}

func (s *Server) describeFramework(q *request) (any, error) {
	name := q.path("frameworkName")
	if err := checkFrameworkName(name); err != nil {
		return nil, err
	}
	f, err := s.svc.GetFramework(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return describeFrameworkOutput{
		FrameworkName: f.Name, FrameworkArn: f.ARN, FrameworkDescription: f.Description,
		FrameworkControls: toWireControls(f.Controls), CreationTime: epoch(f.CreationTime),
		DeploymentStatus: f.DeploymentStatus, FrameworkStatus: f.FrameworkStatus, IdempotencyToken: f.IdempotencyToken,
	}, nil
}

func (s *Server) listFrameworks(q *request) (any, error) {
	// The model names ListFrameworks' query members MaxResults and
	// NextToken, capitalised, unlike every other listing.
	page := backup.Page{NextToken: q.str("NextToken")}
	if v := q.str("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, invalidParam("MaxResults %q must be a whole number from 1 to 1000", v)
		}
		page.MaxResults = n
	}
	fws, next, err := s.svc.ListFrameworks(q.ctx(), page)
	if err != nil {
		return nil, err
	}
	out := listFrameworksOutput{Frameworks: []frameworkListMember{}, NextToken: next}
	for _, f := range fws {
		out.Frameworks = append(out.Frameworks, frameworkListMember{
			FrameworkName: f.Name, FrameworkArn: f.ARN, FrameworkDescription: f.Description,
			NumberOfControls: len(f.Controls), CreationTime: epoch(f.CreationTime), DeploymentStatus: f.DeploymentStatus,
		})
	}
	return out, nil
}

func (s *Server) updateFramework(q *request) (any, error) {
	name := q.path("frameworkName")
	if err := checkFrameworkName(name); err != nil {
		return nil, err
	}
	var in updateFrameworkInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	up := backup.UpdateFrameworkInput{Name: name, Description: in.FrameworkDescription, IdempotencyToken: in.IdempotencyToken}
	if in.FrameworkDescription != nil {
		if err := backup.ValidateFrameworkDescription(*in.FrameworkDescription); err != nil {
			return nil, err
		}
	}
	if in.FrameworkControls != nil {
		up.Controls = fromWireControls(*in.FrameworkControls)
		if err := backup.ValidateFrameworkControls(up.Controls); err != nil {
			return nil, err
		}
	}
	f, err := s.svc.UpdateFramework(q.ctx(), up)
	if err != nil {
		return nil, err
	}
	return updateFrameworkOutput{FrameworkName: f.Name, FrameworkArn: f.ARN, CreationTime: epoch(f.CreationTime)}, nil
}

func (s *Server) deleteFramework(q *request) (any, error) {
	name := q.path("frameworkName")
	if err := checkFrameworkName(name); err != nil {
		return nil, err
	}
	if err := s.svc.DeleteFramework(q.ctx(), name); err != nil {
		return nil, err
	}
	return nil, nil
}

// FrameworkEvaluation is the answer of GET
// /cairn/frameworks/{frameworkName}/evaluation: every control's verdicts.
type FrameworkEvaluation struct {
	FrameworkName  string
	FrameworkArn   string
	EvaluationTime epoch
	Controls       []ControlEvaluation
	FailedSources  []string `json:",omitempty"`
}

// ControlEvaluation is one control's verdicts.
type ControlEvaluation struct {
	ControlName     string
	Evaluates       string
	InputParameters map[string]string
	ControlScope    *controlScope `json:",omitempty"`
	Compliance      string
	Compliant       int
	NonCompliant    int
	Note            string `json:",omitempty"`
	Resources       []ResourceEvaluation
}

// ResourceEvaluation is a control's verdict on one resource.
type ResourceEvaluation struct {
	ResourceArn  string
	ResourceType string
	ResourceName string `json:",omitempty"`
	Compliance   string
	Reason       string
}

func (s *Server) evaluateFramework(q *request) (any, error) {
	name := q.path("frameworkName")
	if err := checkFrameworkName(name); err != nil {
		return nil, err
	}
	ev, err := s.svc.EvaluateFramework(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	out := FrameworkEvaluation{FrameworkName: ev.FrameworkName, FrameworkArn: ev.FrameworkARN,
		EvaluationTime: epoch(ev.EvaluatedAt), Controls: []ControlEvaluation{}, FailedSources: ev.FailedSources}
	for _, c := range ev.Controls {
		ok, bad := c.Counts()
		ce := ControlEvaluation{ControlName: c.ControlName, Evaluates: c.Evaluates, InputParameters: c.Parameters,
			Compliance: string(c.Compliance), Compliant: ok, NonCompliant: bad, Note: c.Note, Resources: []ResourceEvaluation{}}
		if !c.Scope.IsZero() {
			ce.ControlScope = &controlScope{c.Scope.ComplianceResourceIDs, c.Scope.ComplianceResourceTypes, c.Scope.Tags}
		}
		for _, r := range c.Resources {
			ce.Resources = append(ce.Resources, ResourceEvaluation{ResourceArn: r.ResourceARN, ResourceType: r.ResourceType,
				ResourceName: r.ResourceName, Compliance: string(r.Compliance), Reason: r.Reason})
		}
		out.Controls = append(out.Controls, ce)
	}
	return out, nil
}
