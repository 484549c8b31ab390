package awsapi

import (
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/cairn-backup/cairn/internal/backup"
)

// This file holds cairn's own operations, which AWS Backup does not have:
// applying CloudFormation templates (stacks) and explaining which plans
// protect a resource. They live under /cairn/, outside AWS's URI space, are
// signed with SigV4 like every other request, and speak JSON with AWS-style
// member names and epoch-seconds dates. cmd/cairn's client decodes exactly
// these shapes, so they are exported.
//
//	PUT    /cairn/stacks/{stackName}   ApplyStackInput -> StackChangesOutput
//	DELETE /cairn/stacks/{stackName}                   -> StackChangesOutput
//	GET    /cairn/stacks/{stackName}                   -> GetStackOutput
//	GET    /cairn/explain?resourceArn=ARN              -> Explanation
//	GET    /cairn/compliance[?resourceName=TABLE]      -> ComplianceOutput (compliance.go)
//	GET    /cairn/cluster                              -> ClusterOutput (cluster.go)
//	GET    /cairn/backup-jobs/{backupJobId}/progress   -> JobProgress
//	GET    /cairn/restore-jobs/{restoreJobId}/progress -> JobProgress
//	GET    /cairn/verify/...                            (verify.go)
//	PUT|GET|DELETE /cairn/policies/...                  (policies.go)
//	POST|GET /cairn/notifications/...                   (notifications.go)

// MaxTemplateBytes is the largest TemplateBody ApplyStack accepts.
const MaxTemplateBytes = 1 << 20

// maxExtBodyBytes bounds the body of a /cairn/ request: a template of
// MaxTemplateBytes grows when it is escaped as a JSON string.
const maxExtBodyBytes = 8 << 20

// extPrefix starts the path of every cairn extension operation.
const extPrefix = "/cairn/"

// stackNamePattern is CloudFormation's rule for stack names.
var stackNamePattern = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)

// Time is a date on the wire: epoch seconds with milliseconds as a fraction.
// Its zero value is left out of responses.
type Time = epoch

// Time returns t as a time.Time in UTC.
func (t epoch) Time() time.Time { return time.Time(t).UTC() }

// ApplyStackInput is the body of PUT /cairn/stacks/{stackName}: a
// CloudFormation template (YAML or JSON, at most MaxTemplateBytes) and the
// values of its parameters.
type ApplyStackInput struct {
	TemplateBody string            `json:"TemplateBody"`
	Parameters   map[string]string `json:"Parameters"`
}

// StackChangesOutput answers ApplyStack and DeleteStack: the stack and what
// was done to each of its resources.
type StackChangesOutput struct {
	Stack   *Stack        `json:"Stack"`
	Changes []StackChange `json:"Changes"`
}

// GetStackOutput answers GET /cairn/stacks/{stackName}.
type GetStackOutput struct {
	Stack *Stack `json:"Stack"`
}

// Stack is what one applied template created.
type Stack struct {
	StackName    string            `json:"StackName"`
	Parameters   map[string]string `json:"Parameters"`
	Resources    []StackResource   `json:"Resources"`
	CreationDate Time              `json:"CreationDate,omitzero"`
	UpdateDate   Time              `json:"UpdateDate,omitzero"`
}

// StackResource is one resource of a stack: its logical id in the template,
// its type, what it became (vault name, plan id or "PLANID/SELECTIONID"),
// APPLIED or NOT_APPLICABLE, and a message for users.
type StackResource struct {
	LogicalId  string `json:"LogicalId"`
	Type       string `json:"Type"`
	PhysicalId string `json:"PhysicalId"`
	Status     string `json:"Status"`
	Message    string `json:"Message"`
}

// StackChange is what apply or delete did to one resource; Action is
// CREATE, UPDATE, DELETE, NONE or SKIP.
type StackChange struct {
	LogicalId  string `json:"LogicalId"`
	Type       string `json:"Type"`
	PhysicalId string `json:"PhysicalId"`
	Action     string `json:"Action"`
	Message    string `json:"Message"`
}

// Explanation answers GET /cairn/explain: the resource as cairn sees it now,
// whether any selection covers it, and one verdict per selection.
type Explanation struct {
	ResourceArn  string            `json:"ResourceArn"`
	ResourceType string            `json:"ResourceType"`
	ResourceName string            `json:"ResourceName"`
	Tags         map[string]string `json:"Tags"`
	Covered      bool              `json:"Covered"`
	Verdicts     []Verdict         `json:"Verdicts"`
}

// Verdict says whether one selection of one plan covers the resource, and
// why or why not; Rules are the plan's rules that back it up when covered.
type Verdict struct {
	BackupPlanId   string          `json:"BackupPlanId"`
	BackupPlanName string          `json:"BackupPlanName"`
	BackupPlanArn  string          `json:"BackupPlanArn"`
	VersionId      string          `json:"VersionId"`
	SelectionId    string          `json:"SelectionId"`
	SelectionName  string          `json:"SelectionName"`
	Covered        bool            `json:"Covered"`
	Reason         string          `json:"Reason"`
	Rules          []ExplainedRule `json:"Rules"`
}

// ExplainedRule is a rule of a plan that covers the resource.
type ExplainedRule struct {
	RuleId                     string `json:"RuleId"`
	RuleName                   string `json:"RuleName"`
	ScheduleExpression         string `json:"ScheduleExpression"`
	ScheduleExpressionTimezone string `json:"ScheduleExpressionTimezone"`
	TargetBackupVaultName      string `json:"TargetBackupVaultName"`
	StartWindowMinutes         int64  `json:"StartWindowMinutes"`
	CompletionWindowMinutes    int64  `json:"CompletionWindowMinutes"`
}

func toStack(s *backup.Stack) *Stack {
	if s == nil {
		return nil
	}
	w := &Stack{
		StackName:    s.Name,
		Parameters:   s.Parameters,
		Resources:    []StackResource{},
		CreationDate: Time(s.CreationDate),
		UpdateDate:   Time(s.UpdateDate),
	}
	if w.Parameters == nil {
		w.Parameters = map[string]string{}
	}
	for _, r := range s.Resources {
		w.Resources = append(w.Resources, StackResource{
			LogicalId: r.LogicalID, Type: r.Type, PhysicalId: r.PhysicalID, Status: r.Status, Message: r.Message,
		})
	}
	return w
}

func toStackChanges(r *backup.StackResult) StackChangesOutput {
	out := StackChangesOutput{Changes: []StackChange{}}
	if r == nil {
		return out
	}
	out.Stack = toStack(r.Stack)
	for _, c := range r.Changes {
		out.Changes = append(out.Changes, StackChange{
			LogicalId: c.LogicalID, Type: c.Type, PhysicalId: c.PhysicalID, Action: c.Action, Message: c.Message,
		})
	}
	return out
}

func toExplanation(e *backup.Explanation) Explanation {
	w := Explanation{
		ResourceArn:  e.Resource.ARN,
		ResourceType: e.Resource.Type,
		ResourceName: e.Resource.Name,
		Tags:         e.Resource.Tags,
		Covered:      e.Covered(),
		Verdicts:     []Verdict{},
	}
	if w.Tags == nil {
		w.Tags = map[string]string{}
	}
	for _, v := range e.Verdicts {
		wv := Verdict{
			BackupPlanId: v.BackupPlanID, BackupPlanName: v.BackupPlanName, BackupPlanArn: v.BackupPlanARN,
			VersionId: v.VersionID, SelectionId: v.SelectionID, SelectionName: v.SelectionName,
			Covered: v.Covered, Reason: v.Reason, Rules: []ExplainedRule{},
		}
		for _, r := range v.Rules {
			wv.Rules = append(wv.Rules, ExplainedRule{
				RuleId: r.RuleID, RuleName: r.RuleName, ScheduleExpression: r.ScheduleExpression,
				ScheduleExpressionTimezone: r.ScheduleExpressionTimezone, TargetBackupVaultName: r.TargetBackupVaultName,
				StartWindowMinutes: r.StartWindowMinutes, CompletionWindowMinutes: r.CompletionWindowMinutes,
			})
		}
		w.Verdicts = append(w.Verdicts, wv)
	}
	return w
}

// stackName reads and validates the stackName path member.
func stackName(q *request) (string, error) {
	name := q.path("stackName")
	if name == "" {
		return "", missingParam("StackName")
	}
	if !stackNamePattern.MatchString(name) {
		return "", invalidParam("StackName %q must start with a letter and contain only letters, digits and hyphens, at most 128 characters", name)
	}
	return name, nil
}

func (s *Server) applyStack(q *request) (any, error) {
	name, err := stackName(q)
	if err != nil {
		return nil, err
	}
	var in ApplyStackInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.TemplateBody == "":
		return nil, missingParam("TemplateBody")
	case len(in.TemplateBody) > MaxTemplateBytes:
		return nil, invalidParam("TemplateBody is %d bytes; a template may be at most %d bytes (1 MiB): split it into several stacks",
			len(in.TemplateBody), MaxTemplateBytes)
	case !utf8.ValidString(in.TemplateBody):
		return nil, invalidParam("TemplateBody is not valid UTF-8")
	}
	for k := range in.Parameters {
		if k == "" {
			return nil, invalidParam("Parameters has an empty name; give each parameter the name it has in the template")
		}
	}
	r, err := s.svc.ApplyStack(q.ctx(), backup.ApplyStackInput{
		StackName:  name,
		Template:   []byte(in.TemplateBody),
		Parameters: in.Parameters,
	})
	if err != nil {
		return nil, err
	}
	return toStackChanges(r), nil
}

func (s *Server) deleteStack(q *request) (any, error) {
	name, err := stackName(q)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.DeleteStack(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return toStackChanges(r), nil
}

func (s *Server) getStack(q *request) (any, error) {
	name, err := stackName(q)
	if err != nil {
		return nil, err
	}
	st, err := s.svc.GetStack(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return GetStackOutput{Stack: toStack(st)}, nil
}

func (s *Server) explainResource(q *request) (any, error) {
	arn := q.str("resourceArn")
	if arn == "" {
		return nil, missingParam("resourceArn")
	}
	if _, _, err := backup.ParseTableARN(arn); err != nil {
		return nil, err
	}
	e, err := s.svc.ExplainResource(q.ctx(), arn)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, errors.New("ExplainResource returned no explanation")
	}
	return toExplanation(e), nil
}

// JobProgress answers GET /cairn/backup-jobs/{backupJobId}/progress and GET
// /cairn/restore-jobs/{restoreJobId}/progress: what a client waiting for a
// job shows. Items counts the items read (backup) or written (restore) so
// far, Bytes the bytes read (backup only); PercentDone is 0 while no size
// estimate exists (a source that reports no ItemCount). Phase is
// "validating" while a restore checks the restored table.
type JobProgress struct {
	JobId       string  `json:"JobId"`
	State       string  `json:"State"`
	Phase       string  `json:"Phase,omitempty"`
	PercentDone float64 `json:"PercentDone"`
	Items       int64   `json:"Items"`
	Bytes       int64   `json:"Bytes"`
	// BackupSizeInBytes is the size of what the job reads: for a restore
	// the recovery point's, for a backup what it stored so far.
	BackupSizeInBytes int64 `json:"BackupSizeInBytes"`
	CreationDate      Time  `json:"CreationDate,omitzero"`
}

func (s *Server) backupJobProgress(q *request) (any, error) {
	j, err := s.svc.GetBackupJob(q.ctx(), q.path("backupJobId"))
	if err != nil {
		return nil, err
	}
	return JobProgress{JobId: j.ID, State: string(j.State), PercentDone: j.PercentDone, Items: j.ItemCount,
		Bytes: j.BytesTransferred, BackupSizeInBytes: j.BackupSizeInBytes, CreationDate: Time(j.CreationDate)}, nil
}

func (s *Server) restoreJobProgress(q *request) (any, error) {
	j, err := s.svc.GetRestoreJob(q.ctx(), q.path("restoreJobId"))
	if err != nil {
		return nil, err
	}
	p := JobProgress{JobId: j.ID, State: string(j.Status), PercentDone: j.PercentDone, Items: j.ItemsRestored,
		BackupSizeInBytes: j.BackupSizeInBytes, CreationDate: Time(j.CreationDate)}
	if j.ValidationStatus == backup.ValidationValidating && j.Status == backup.RestoreRunning {
		p.Phase = "validating"
	}
	return p, nil
}
