package backup

import "time"

// Stack records what one applied CloudFormation template created (cairn
// apply): its name identifies the resources on re-apply and delete.
type Stack struct {
	Name         string
	Parameters   map[string]string
	Resources    []StackResource
	CreationDate time.Time
	UpdateDate   time.Time
}

// Status of a stack resource after apply.
const (
	StackResourceApplied       = "APPLIED"
	StackResourceNotApplicable = "NOT_APPLICABLE"
)

// StackResource is one resource of a template and what became of it.
type StackResource struct {
	LogicalID string
	Type      string // e.g. AWS::Backup::BackupPlan
	// PhysicalID is the vault name, plan id or "PLANID/SELECTIONID".
	PhysicalID string
	Status     string // StackResourceApplied or StackResourceNotApplicable
	// Properties are the resolved properties as JSON, to see on re-apply
	// whether anything changed.
	Properties string
	// Attributes are what Ref and Fn::GetAtt return (key "Ref" for Ref).
	Attributes map[string]string
	Message    string
}

// ApplyStackInput asks to create or update a stack from a template.
type ApplyStackInput struct {
	StackName  string
	Template   []byte // YAML or JSON
	Parameters map[string]string
}

// StackChange reports what apply did to one resource.
type StackChange struct {
	LogicalID  string
	Type       string
	PhysicalID string
	// Action is CREATE, UPDATE, DELETE, NONE or SKIP (not applicable).
	Action  string
	Message string
}

// StackResult is the outcome of ApplyStack or DeleteStack.
type StackResult struct {
	Stack   *Stack
	Changes []StackChange
}
