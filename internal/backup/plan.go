package backup

import "time"

// Default values AWS Backup gives a rule that leaves them out.
const (
	// DefaultScheduleExpression runs a rule daily at 05:00 UTC.
	DefaultScheduleExpression = "cron(0 5 ? * * *)"
	// DefaultStartWindowMinutes is 8 hours.
	DefaultStartWindowMinutes = 480
	// DefaultCompletionWindowMinutes is 7 days.
	DefaultCompletionWindowMinutes = 10080
	// MinStartWindowMinutes is the shortest start window AWS accepts.
	MinStartWindowMinutes = 60
	// MaxLifecycleDays is the longest retention AWS accepts (100 years).
	MaxLifecycleDays = 36500
	// MinColdStorageDays is how long a point stays in cold storage at least:
	// DeleteAfterDays must be at least MoveToColdStorageAfterDays + 90.
	MinColdStorageDays = 90
)

// PlanDocument is what a user writes to define a backup plan (AWS's
// BackupPlanInput): a name and its rules.
type PlanDocument struct {
	BackupPlanName         string
	Rules                  []BackupRule
	AdvancedBackupSettings []AdvancedBackupSetting
}

// BackupRule is one schedule of a plan: when to back up, into which vault,
// how long to keep the points and where to copy them.
type BackupRule struct {
	// RuleID is assigned by cairn; it is kept across plan versions for a
	// rule of the same RuleName.
	RuleID                     string
	RuleName                   string
	TargetBackupVaultName      string
	ScheduleExpression         string // AWS cron, "cron(...)"; empty means DefaultScheduleExpression
	ScheduleExpressionTimezone string // IANA name; empty means UTC
	StartWindowMinutes         int64  // 0 means DefaultStartWindowMinutes
	CompletionWindowMinutes    int64  // 0 means DefaultCompletionWindowMinutes
	Lifecycle                  Lifecycle
	RecoveryPointTags          map[string]string
	CopyActions                []CopyAction
	EnableContinuousBackup     bool
}

// CopyAction copies each recovery point a rule creates into another vault,
// where it gets its own lifecycle.
type CopyAction struct {
	DestinationBackupVaultARN string
	Lifecycle                 Lifecycle
}

// AdvancedBackupSetting is AWS's per-resource-type option map; cairn keeps it
// as given (it has no DynamoDB options).
type AdvancedBackupSetting struct {
	ResourceType  string
	BackupOptions map[string]string
}

// BackupPlan is one version of a plan. Every update makes a new version with
// a new VersionID; the plan's ID and ARN stay.
type BackupPlan struct {
	PlanDocument
	ID               string
	ARN              string
	VersionID        string
	AccountID        string
	Region           string
	CreatorRequestID string
	// CreationDate is when this version was made.
	CreationDate time.Time
	// DeletionDate is set once the plan is deleted (all its versions).
	DeletionDate time.Time
	// LastExecutionDate is when the plan last created a job.
	LastExecutionDate time.Time
	// Tags are the plan's tags (BackupPlanTags); shared by all versions.
	Tags map[string]string
	// ManagedBy is the name of the backup policy that manages the plan
	// (empty for plans made through the API): the API refuses to change or
	// delete it. Set when the plan is created, shared by all versions.
	ManagedBy string
}

// Rule returns the rule with the given id, or nil.
func (p *BackupPlan) Rule(id string) *BackupRule {
	for i := range p.Rules {
		if p.Rules[i].RuleID == id {
			return &p.Rules[i]
		}
	}
	return nil
}

// BackupPlanFilter selects plans for ListBackupPlans; plans are returned by
// creation date, newest first, latest version only.
type BackupPlanFilter struct {
	Page
	IncludeDeleted bool
}

// Condition types and operators of a backup selection, as AWS names them.
const (
	ConditionStringEquals = "STRINGEQUALS" // the only ConditionType of ListOfTags
)

// TagCondition is one entry of a selection's ListOfTags: the resource must
// have tag ConditionKey with value ConditionValue (ConditionType is always
// STRINGEQUALS).
type TagCondition struct {
	ConditionType  string
	ConditionKey   string
	ConditionValue string
}

// ConditionParameter is one entry of a selection's Conditions. Key is
// "aws:ResourceTag/KEY".
type ConditionParameter struct {
	ConditionKey   string
	ConditionValue string
}

// Conditions are the extra conditions of a selection; every entry must hold.
type Conditions struct {
	StringEquals    []ConditionParameter
	StringNotEquals []ConditionParameter
	StringLike      []ConditionParameter
	StringNotLike   []ConditionParameter
}

// IsZero reports whether no condition is set.
func (c Conditions) IsZero() bool {
	return len(c.StringEquals) == 0 && len(c.StringNotEquals) == 0 && len(c.StringLike) == 0 && len(c.StringNotLike) == 0
}

// SelectionDocument is what a user writes to assign resources to a plan
// (AWS's BackupSelection).
type SelectionDocument struct {
	SelectionName string
	IAMRoleARN    string
	Resources     []string // ARNs, '*' wildcards allowed
	NotResources  []string
	ListOfTags    []TagCondition
	Conditions    Conditions
}

// BackupSelection assigns resources to a plan.
type BackupSelection struct {
	SelectionDocument
	SelectionID      string
	BackupPlanID     string
	CreationDate     time.Time
	CreatorRequestID string
	// ManagedBy is the name of the backup policy that manages the
	// selection (empty for selections made through the API).
	ManagedBy string
}

// Resource is a protectable resource as the scheduler sees it when it
// resolves selections: its ARN, type, name and tags at that moment.
type Resource struct {
	ARN  string
	Type string
	Name string
	Tags map[string]string
}

// ScheduledRun is one upcoming run of a rule (GetBackupPlan's
// ScheduledRunsPreview).
type ScheduledRun struct {
	ExecutionTime     time.Time
	RuleID            string
	RecoveryPointType string // always SNAPSHOT
}

// SelectionVerdict says whether one selection of one plan covers a resource,
// and why or why not, in words meant for users.
type SelectionVerdict struct {
	BackupPlanID   string
	BackupPlanName string
	BackupPlanARN  string
	VersionID      string
	SelectionID    string
	SelectionName  string
	Covered        bool
	Reason         string
	// Rules are the plan's rules that back the resource up when Covered.
	Rules []BackupRule
}

// Explanation is the answer to "which plans protect this resource?".
type Explanation struct {
	Resource Resource
	Verdicts []SelectionVerdict
}

// Covered reports whether any selection covers the resource.
func (e *Explanation) Covered() bool {
	for _, v := range e.Verdicts {
		if v.Covered {
			return true
		}
	}
	return false
}
