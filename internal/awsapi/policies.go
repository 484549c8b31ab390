package awsapi

import (
	"unicode/utf8"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Governance policies, cairn's own operations (see ext.go):
//
//	PUT    /cairn/policies/{policyName}  ApplyPolicyInput -> PolicyOutput
//	GET    /cairn/policies               ?maxResults&nextToken -> ListPoliciesOutput
//	GET    /cairn/policies/{policyName}                  -> PolicyOutput
//	DELETE /cairn/policies/{policyName}                  -> PolicyOutput
//
// Type and Content are named as in AWS Organizations' CreatePolicy.

// MaxPolicyBytes is the largest policy document ApplyPolicy accepts.
const MaxPolicyBytes = 1 << 20

// ApplyPolicyInput is the body of PUT /cairn/policies/{policyName}.
type ApplyPolicyInput struct {
	// Type is TAG_POLICY or BACKUP_POLICY.
	Type string `json:"Type"`
	// Content is the policy document, JSON in AWS Organizations' syntax.
	Content string        `json:"Content"`
	Options PolicyOptions `json:"Options"`
}

// PolicyOptions are cairn's own options of a policy (backup.PolicyOptions).
type PolicyOptions struct {
	DefaultValue string   `json:"DefaultValue,omitempty"`
	OnViolation  string   `json:"OnViolation,omitempty"`
	Exclude      []string `json:"Exclude,omitempty"`
	DryRun       bool     `json:"DryRun,omitempty"`
}

// Policy is a stored policy.
type Policy struct {
	PolicyName     string        `json:"PolicyName"`
	Type           string        `json:"Type"`
	Content        string        `json:"Content,omitempty"`
	Options        PolicyOptions `json:"Options"`
	CreationDate   Time          `json:"CreationDate,omitzero"`
	LastUpdateDate Time          `json:"LastUpdateDate,omitzero"`
}

// ManagedPlan is a plan a backup policy manages.
type ManagedPlan struct {
	BackupPlanId   string   `json:"BackupPlanId"`
	BackupPlanName string   `json:"BackupPlanName"`
	VersionId      string   `json:"VersionId"`
	Selections     []string `json:"Selections"`
}

// PolicyChange is what a request did to the policy or to one plan or
// selection it manages: Action CREATE, UPDATE, DELETE, NONE or SKIP.
type PolicyChange struct {
	Kind      string `json:"Kind"`
	Name      string `json:"Name"`
	Id        string `json:"Id,omitempty"`
	Action    string `json:"Action"`
	VersionId string `json:"VersionId,omitempty"`
	Message   string `json:"Message,omitempty"`
}

// PolicyOutput answers ApplyPolicy, GetPolicy and DeletePolicy.
type PolicyOutput struct {
	Policy  *Policy        `json:"Policy"`
	Plans   []ManagedPlan  `json:"Plans"`
	Changes []PolicyChange `json:"Changes,omitempty"`
}

// ListPoliciesOutput answers GET /cairn/policies (without Content).
type ListPoliciesOutput struct {
	Policies  []Policy `json:"Policies"`
	NextToken string   `json:"NextToken,omitempty"`
}

func policyName(q *request) (string, error) {
	name := q.path("policyName")
	if name == "" {
		return "", missingParam("PolicyName")
	}
	if err := backup.ValidatePolicyName(name); err != nil {
		return "", err
	}
	return name, nil
}

func (s *Server) applyPolicy(q *request) (any, error) {
	name, err := policyName(q)
	if err != nil {
		return nil, err
	}
	var in ApplyPolicyInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.Type == "":
		return nil, missingParam("Type")
	case !backup.PolicyType(in.Type).Valid():
		return nil, invalidParam("Type %q must be %s or %s", in.Type, backup.PolicyTypeTag, backup.PolicyTypeBackup)
	case in.Content == "":
		return nil, missingParam("Content")
	case len(in.Content) > MaxPolicyBytes:
		return nil, invalidParam("Content is %d bytes; a policy may be at most %d bytes", len(in.Content), MaxPolicyBytes)
	case !utf8.ValidString(in.Content):
		return nil, invalidParam("Content is not valid UTF-8")
	}
	r, err := s.svc.ApplyPolicy(q.ctx(), backup.ApplyPolicyInput{
		Name: name, Type: backup.PolicyType(in.Type), Document: in.Content,
		Options: backup.PolicyOptions{DefaultValue: in.Options.DefaultValue, OnViolation: backup.OnViolation(in.Options.OnViolation),
			Exclude: in.Options.Exclude, DryRun: in.Options.DryRun},
	})
	if err != nil {
		return nil, err
	}
	return toPolicyOutput(r), nil
}

func (s *Server) getPolicy(q *request) (any, error) {
	name, err := policyName(q)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.GetPolicy(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return toPolicyOutput(r), nil
}

func (s *Server) deletePolicy(q *request) (any, error) {
	name, err := policyName(q)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.DeletePolicy(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	return toPolicyOutput(r), nil
}

func (s *Server) listPolicies(q *request) (any, error) {
	page := q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	ps, next, err := s.svc.ListPolicies(q.ctx(), page)
	if err != nil {
		return nil, err
	}
	out := ListPoliciesOutput{Policies: []Policy{}, NextToken: next}
	for _, p := range ps {
		w := toPolicy(p)
		w.Content = ""
		out.Policies = append(out.Policies, *w)
	}
	return out, nil
}

func toPolicy(p *backup.Policy) *Policy {
	if p == nil {
		return nil
	}
	return &Policy{PolicyName: p.Name, Type: string(p.Type), Content: p.Document,
		Options: PolicyOptions{DefaultValue: p.Options.DefaultValue, OnViolation: string(p.Options.Effective()),
			Exclude: p.Options.Exclude, DryRun: p.Options.DryRun},
		CreationDate: Time(p.CreationDate), LastUpdateDate: Time(p.LastUpdateDate)}
}

func toPolicyOutput(r *backup.PolicyResult) PolicyOutput {
	out := PolicyOutput{Policy: toPolicy(r.Policy), Plans: []ManagedPlan{}}
	for _, p := range r.Plans {
		out.Plans = append(out.Plans, ManagedPlan{BackupPlanId: p.BackupPlanID, BackupPlanName: p.BackupPlanName,
			VersionId: p.VersionID, Selections: append([]string{}, p.Selections...)})
	}
	for _, c := range r.Changes {
		out.Changes = append(out.Changes, PolicyChange{Kind: c.Kind, Name: c.Name, Id: c.ID, Action: c.Action,
			VersionId: c.VersionID, Message: c.Message})
	}
	return out
}
