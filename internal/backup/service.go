package backup

import "context"

// CreateVaultInput asks for a new vault. Storage zero means a directory
// under the server's data dir.
type CreateVaultInput struct {
	Name             string
	CreatorRequestID string
	EncryptionKeyARN string
	Tags             map[string]string
	Storage          VaultStorage
}

// StartBackupJobInput asks for a backup of one resource.
type StartBackupJobInput struct {
	VaultName         string
	ResourceARN       string
	IAMRoleARN        string
	IdempotencyToken  string
	StartWindowMins   int64
	CompleteWindowMin int64
	Lifecycle         Lifecycle
	RecoveryPointTags map[string]string
	Options           BackupOptions
}

// StartRestoreJobInput asks for a restore of a recovery point into a new
// table. Metadata carries AWS's DynamoDB restore keys (TargetTableName is
// required) and cairn's own (see the runner for the list).
type StartRestoreJobInput struct {
	RecoveryPointARN string
	Metadata         map[string]string
	IAMRoleARN       string
	IdempotencyToken string
	ResourceType     string
	CopySourceTags   bool
}

// VaultService manages vaults.
type VaultService interface {
	CreateVault(ctx context.Context, in CreateVaultInput) (*Vault, error)
	GetVault(ctx context.Context, name string) (*Vault, error)
	ListVaults(ctx context.Context, p Page) ([]*Vault, string, error)
	// DeleteVault removes an empty vault; ErrInvalidRequest if it holds points.
	DeleteVault(ctx context.Context, name string) error
}

// BackupJobService starts, watches and stops backup jobs.
type BackupJobService interface {
	// StartBackupJob creates a job and returns at once; the job runs in the
	// background. The same IdempotencyToken returns the same job.
	StartBackupJob(ctx context.Context, in StartBackupJobInput) (*BackupJob, error)
	GetBackupJob(ctx context.Context, id string) (*BackupJob, error)
	ListBackupJobs(ctx context.Context, f BackupJobFilter) ([]*BackupJob, string, error)
	// StopBackupJob cancels an active job: it goes ABORTING, then ABORTED
	// once its partial data is removed. ErrInvalidRequest if already terminal.
	StopBackupJob(ctx context.Context, id string) error
}

// RecoveryPointService reads and deletes recovery points.
type RecoveryPointService interface {
	// GetRecoveryPoint returns the point with arn in vault; ErrNotFound if it
	// is not there.
	GetRecoveryPoint(ctx context.Context, vault, arn string) (*RecoveryPoint, error)
	ListRecoveryPoints(ctx context.Context, f RecoveryPointFilter) ([]*RecoveryPoint, string, error)
	// DeleteRecoveryPoint removes a point's data and catalog entry.
	DeleteRecoveryPoint(ctx context.Context, vault, arn string) error
	// UpdateRecoveryPointLifecycle sets a point's lifecycle; the new dates
	// count from its creation. A point in cold storage cannot have its
	// MoveToColdStorageAfterDays changed (ErrInvalidParameter).
	UpdateRecoveryPointLifecycle(ctx context.Context, vault, arn string, l Lifecycle) (*RecoveryPoint, error)
	ListProtectedResources(ctx context.Context, p Page) ([]*ProtectedResource, string, error)
}

// RestoreJobService starts and watches restore jobs.
type RestoreJobService interface {
	StartRestoreJob(ctx context.Context, in StartRestoreJobInput) (*RestoreJob, error)
	GetRestoreJob(ctx context.Context, id string) (*RestoreJob, error)
	ListRestoreJobs(ctx context.Context, f RestoreJobFilter) ([]*RestoreJob, string, error)
}

// CreateBackupPlanInput asks for a new plan.
type CreateBackupPlanInput struct {
	Plan             PlanDocument
	Tags             map[string]string
	CreatorRequestID string
}

// CreateBackupSelectionInput asks to assign resources to a plan.
type CreateBackupSelectionInput struct {
	BackupPlanID     string
	Selection        SelectionDocument
	CreatorRequestID string
}

// PlanService manages backup plans and selections. Plans are validated as
// AWS validates them (ValidatePlanDocument) and their target vaults must
// exist.
type PlanService interface {
	// CreateBackupPlan stores a new plan. The same CreatorRequestID returns
	// the plan it created before.
	CreateBackupPlan(ctx context.Context, in CreateBackupPlanInput) (*BackupPlan, error)
	// GetBackupPlan returns a version of a plan (latest if versionID is
	// empty) and its next previewRuns scheduled runs (at most 10).
	GetBackupPlan(ctx context.Context, id, versionID string, previewRuns int) (*BackupPlan, []ScheduledRun, error)
	ListBackupPlans(ctx context.Context, f BackupPlanFilter) ([]*BackupPlan, string, error)
	ListBackupPlanVersions(ctx context.Context, id string, p Page) ([]*BackupPlan, string, error)
	// UpdateBackupPlan replaces the plan's document; the result has a new
	// VersionID.
	UpdateBackupPlan(ctx context.Context, id string, doc PlanDocument) (*BackupPlan, error)
	// DeleteBackupPlan deletes a plan without selections and returns it
	// with its DeletionDate.
	DeleteBackupPlan(ctx context.Context, id string) (*BackupPlan, error)

	CreateBackupSelection(ctx context.Context, in CreateBackupSelectionInput) (*BackupSelection, error)
	GetBackupSelection(ctx context.Context, planID, selectionID string) (*BackupSelection, error)
	ListBackupSelections(ctx context.Context, planID string, p Page) ([]*BackupSelection, string, error)
	DeleteBackupSelection(ctx context.Context, planID, selectionID string) error

	// ExplainResource says which plans, rules and selections cover the
	// resource (a table ARN) with its current tags, and why; or why none does.
	ExplainResource(ctx context.Context, resourceARN string) (*Explanation, error)
}

// CopyJobService starts and watches copy jobs.
type CopyJobService interface {
	StartCopyJob(ctx context.Context, in StartCopyJobInput) (*CopyJob, error)
	GetCopyJob(ctx context.Context, id string) (*CopyJob, error)
	ListCopyJobs(ctx context.Context, f CopyJobFilter) ([]*CopyJob, string, error)
}

// StackService applies CloudFormation templates (cairn apply).
type StackService interface {
	// ApplyStack creates or updates the vaults, plans and selections of a
	// template; re-applying an unchanged template changes nothing.
	ApplyStack(ctx context.Context, in ApplyStackInput) (*StackResult, error)
	// DeleteStack removes what the stack created, then the stack record.
	DeleteStack(ctx context.Context, name string) (*StackResult, error)
	GetStack(ctx context.Context, name string) (*Stack, error)
}

// TagService reads and changes the tags of vaults, backup plans and
// recovery points, each named by its ARN (see ParseTaggableARN). A
// well-formed ARN of a resource cairn does not hold (another account or
// region, a deleted plan) is ErrNotFound.
type TagService interface {
	// TagResource adds tags to the resource and gives existing keys their
	// new values, as AddTags says: at most MaxTags in all
	// (ErrLimitExceeded), and a vault's reserved cairn: tags never change.
	TagResource(ctx context.Context, arn string, tags map[string]string) error
	// UntagResource removes the tags with the given keys; keys the
	// resource does not carry are ignored. A vault's reserved cairn: tags
	// cannot be removed.
	UntagResource(ctx context.Context, arn string, keys []string) error
	// ListTags returns a page of the resource's tags in key order.
	ListTags(ctx context.Context, arn string, p Page) (map[string]string, string, error)
}

// Service is everything the API offers.
type Service interface {
	VaultService
	BackupJobService
	RecoveryPointService
	RestoreJobService
	PlanService
	CopyJobService
	StackService
	TagService
	VerifyService
	PolicyService
	ProtectedResourceService
	FrameworkService
	// Audit Manager's report plans and jobs (report.go).
	ReportService
	// The List*JobSummaries operations (summary.go).
	JobSummaryService
	// Vault notifications and delivery records (outbox.go).
	NotificationService
	// cairn's own notification targets (notifytarget.go).
	NotificationTargetService
	// The nodes that share the catalog (cluster.go).
	ClusterService
}

// ApplyPolicyInput asks to create or update a governance policy.
type ApplyPolicyInput struct {
	Name     string
	Type     PolicyType
	Document string // the JSON document, in AWS Organizations' syntax
	Options  PolicyOptions
}

// Actions of a PolicyChange.
const (
	PolicyActionCreate = "CREATE"
	PolicyActionUpdate = "UPDATE"
	PolicyActionDelete = "DELETE"
	PolicyActionNone   = "NONE"
	// PolicyActionSkip: a plan of the policy that is not for the server's
	// region.
	PolicyActionSkip = "SKIP"
)

// PolicyChange reports what applying or deleting a policy did to the
// policy itself (Kind "Policy") or to one plan or selection it manages.
type PolicyChange struct {
	Kind   string // Policy, BackupPlan or BackupSelection
	Name   string
	ID     string
	Action string
	// VersionID is a plan's version after the change.
	VersionID string `json:",omitempty"`
	Message   string `json:",omitempty"`
}

// ManagedPlan is a plan a backup policy manages, with its selections'
// names.
type ManagedPlan struct {
	BackupPlanID   string
	BackupPlanName string
	VersionID      string
	Selections     []string
}

// PolicyResult is a policy, what it manages, and what the request
// changed.
type PolicyResult struct {
	Policy  *Policy
	Plans   []ManagedPlan  `json:",omitempty"`
	Changes []PolicyChange `json:",omitempty"`
}

// PolicyService manages governance policies. A backup policy creates and
// keeps up to date the plans and selections it implies in the server's
// region; they are marked ManagedBy the policy and PlanService refuses to
// change or delete them (ErrInvalidRequest naming the policy).
type PolicyService interface {
	// ApplyPolicy validates the document (errors name its path) and the
	// options, then stores the policy and makes its plans and selections
	// match it, all or nothing. Applying what is stored already changes
	// nothing.
	ApplyPolicy(ctx context.Context, in ApplyPolicyInput) (*PolicyResult, error)
	// GetPolicy returns the policy and the plans it manages.
	GetPolicy(ctx context.Context, name string) (*PolicyResult, error)
	// ListPolicies returns policies by name.
	ListPolicies(ctx context.Context, p Page) ([]*Policy, string, error)
	// DeletePolicy removes the policy and the plans and selections it
	// manages; their recovery points stay, under their lifecycle.
	DeletePolicy(ctx context.Context, name string) (*PolicyResult, error)
}
