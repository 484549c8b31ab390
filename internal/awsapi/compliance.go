package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// ComplianceOutput answers GET /cairn/compliance: every table of every
// source with its governance verdict, as of the worker's last pass.
// Enabled is false (and Resources empty) when the server runs no
// governance rules. A resourceName query parameter keeps the tables of that
// name (or ARN).
type ComplianceOutput struct {
	Enabled   bool                 `json:"Enabled"`
	DryRun    bool                 `json:"DryRun"`
	LastPass  Time                 `json:"LastPass,omitzero"`
	Passes    int                  `json:"Passes"`
	Resources []ResourceCompliance `json:"Resources"`
}

// ResourceCompliance is one table's verdict (backup.TableCompliance).
type ResourceCompliance struct {
	Source               string        `json:"Source"`
	ResourceArn          string        `json:"ResourceArn,omitempty"`
	ResourceName         string        `json:"ResourceName"`
	ResourceType         string        `json:"ResourceType,omitempty"`
	Rule                 string        `json:"Rule,omitempty"`
	TagKey               string        `json:"TagKey,omitempty"`
	TagValue             *string       `json:"TagValue,omitempty"`
	ComplianceType       string        `json:"ComplianceType"`
	Reason               string        `json:"Reason"`
	BackupPlans          []string      `json:"BackupPlans"`
	LastBackupTime       Time          `json:"LastBackupTime,omitzero"`
	LastRecoveryPointArn string        `json:"LastRecoveryPointArn,omitempty"`
	NextRunTime          Time          `json:"NextRunTime,omitzero"`
	EvaluatedAt          Time          `json:"EvaluatedAt,omitzero"`
	Violation            *TagViolation `json:"Violation,omitempty"`
}

// TagViolation is a disallowed tag value and what became of it.
type TagViolation struct {
	Key        string `json:"Key"`
	Value      string `json:"Value"`
	Mode       string `json:"Mode"`
	SeenAt     Time   `json:"SeenAt,omitzero"`
	ResolvedAt Time   `json:"ResolvedAt,omitzero"`
	Resolution string `json:"Resolution,omitempty"`
}

func (s *Server) getCompliance(q *request) (any, error) {
	name := q.str("resourceName")
	if s.compliance == nil {
		return &ComplianceOutput{Resources: []ResourceCompliance{}}, nil
	}
	r, err := s.compliance.Compliance(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	out := &ComplianceOutput{Enabled: r.Enabled, DryRun: r.DryRun, LastPass: epoch(r.LastPass), Passes: r.Passes,
		Resources: make([]ResourceCompliance, 0, len(r.Resources))}
	for _, t := range r.Resources {
		rc := ResourceCompliance{Source: t.Source, ResourceArn: t.ResourceARN, ResourceName: t.ResourceName,
			Rule: t.Rule, TagKey: t.TagKey, ComplianceType: string(t.Verdict), Reason: t.Reason,
			BackupPlans: append([]string{}, t.Plans...), LastBackupTime: epoch(t.LastBackupTime),
			LastRecoveryPointArn: t.LastRecoveryPointARN, NextRunTime: epoch(t.NextRun), EvaluatedAt: epoch(t.EvaluatedAt)}
		if t.ResourceARN != "" {
			rc.ResourceType = backup.ResourceTypeDynamoDB
		}
		if t.HasTag {
			v := t.TagValue
			rc.TagValue = &v
		}
		if v := t.Violation; v != nil {
			rc.Violation = &TagViolation{Key: v.Key, Value: v.Value, Mode: v.Mode, SeenAt: epoch(v.SeenAt),
				ResolvedAt: epoch(v.ResolvedAt), Resolution: v.Resolution}
		}
		out.Resources = append(out.Resources, rc)
	}
	return out, nil
}
