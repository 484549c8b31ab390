package backup

import (
	"context"
	"fmt"
	"time"
)

// TokenInUseError is the error CreateBackupJob, CreateRestoreJob and
// CreateCopyJob return when the new job's IdempotencyToken is held by a job
// of the same kind already: taking a token and creating its job are one
// step, so of many concurrent creations with one token exactly one
// succeeds and every other gets this error naming the winner. The runner
// turns it into that job (or, if the requests differ, into an error for
// the caller).
type TokenInUseError struct {
	// Kind is "BackupJob", "RestoreJob" or "CopyJob".
	Kind  string
	Token string
	// JobID is the job that holds the token.
	JobID string
}

func (e *TokenInUseError) Error() string {
	return fmt.Sprintf("idempotency token %q is held by %s %s", e.Token, e.Kind, e.JobID)
}

// Page asks for one page of a listing. MaxResults 0 means the store's default
// (100); NextToken is the opaque token a previous page returned.
type Page struct {
	MaxResults int
	NextToken  string
}

// BackupJobFilter selects backup jobs; zero fields do not filter. Jobs are
// returned newest first (CreationDate descending, then ID).
type BackupJobFilter struct {
	Page
	ResourceARN      string
	ResourceType     string
	States           []JobState
	VaultName        string
	AccountID        string
	IdempotencyToken string
	CreatedAfter     time.Time
	CreatedBefore    time.Time
	CompleteAfter    time.Time
	CompleteBefore   time.Time
}

// RestoreJobFilter selects restore jobs; zero fields do not filter. Jobs are
// returned newest first.
type RestoreJobFilter struct {
	Page
	AccountID        string
	ResourceType     string
	Statuses         []RestoreJobStatus
	IdempotencyToken string
	CreatedAfter     time.Time
	CreatedBefore    time.Time
	CompleteAfter    time.Time
	CompleteBefore   time.Time
}

// RecoveryPointFilter selects recovery points; zero fields do not filter.
// Points are returned newest first.
type RecoveryPointFilter struct {
	Page
	VaultName     string
	ResourceARN   string
	ResourceType  string
	Statuses      []RecoveryPointStatus
	BackupPlanID  string
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// StorageClass keeps only points in that class.
	StorageClass StorageClass
	// ColdDueBy keeps only points whose lifecycle moves them to cold
	// storage at or before this time; DeleteDueBy, points whose lifecycle
	// deletes them at or before it. For the lifecycle worker.
	ColdDueBy   time.Time
	DeleteDueBy time.Time
}

// VaultStore keeps vaults.
type VaultStore interface {
	// CreateVault stores v. It fails with ErrAlreadyExists if a vault of that
	// name exists.
	CreateVault(ctx context.Context, v *Vault) error
	// GetVault returns the vault with its NumberOfRecoveryPoints, or ErrNotFound.
	GetVault(ctx context.Context, name string) (*Vault, error)
	// ListVaults returns vaults by name.
	ListVaults(ctx context.Context, p Page) (vaults []*Vault, next string, err error)
	// DeleteVault removes an empty vault. It fails with ErrNotFound, or with
	// ErrInvalidRequest while the vault holds recovery points.
	DeleteVault(ctx context.Context, name string) error
}

// BackupJobStore keeps backup jobs.
type BackupJobStore interface {
	// CreateBackupJob stores j. It fails with ErrConflict if j is RUNNING or
	// ABORTING while another job for the same ResourceARN is: one running
	// backup job per resource (CREATED and PENDING jobs wait their turn). It
	// fails with ErrAlreadyExists if j has a ScheduledTime and a job of the
	// same rule (CreatedBy.BackupRuleID), resource and ScheduledTime exists:
	// a rule occurrence creates one job per resource, even when several
	// processes schedule at once. If j has an IdempotencyToken that another
	// backup job holds, it fails with *TokenInUseError and stores nothing;
	// this check comes before the others.
	CreateBackupJob(ctx context.Context, j *BackupJob) error
	// GetBackupJob returns the job or ErrNotFound.
	GetBackupJob(ctx context.Context, id string) (*BackupJob, error)
	// UpdateBackupJob replaces the stored job with j (matched by ID). Like
	// Create, it fails with ErrConflict if j would be a second running job
	// of its resource. IdempotencyToken and RequestHash are the job's
	// from its creation on: Update keeps the stored ones.
	UpdateBackupJob(ctx context.Context, j *BackupJob) error
	// ListBackupJobs returns the jobs that match f.
	ListBackupJobs(ctx context.Context, f BackupJobFilter) (jobs []*BackupJob, next string, err error)
}

// RecoveryPointStore keeps recovery points.
type RecoveryPointStore interface {
	// CreateRecoveryPoint stores p (normally in status CREATING).
	CreateRecoveryPoint(ctx context.Context, p *RecoveryPoint) error
	// GetRecoveryPoint returns the point by ID (the last part of its ARN) or ErrNotFound.
	GetRecoveryPoint(ctx context.Context, id string) (*RecoveryPoint, error)
	// UpdateRecoveryPoint replaces the stored point with p (matched by ID),
	// except its Tags: they change only through UpdateTags, so that a job
	// that updates a point it read earlier never undoes a TagResource.
	UpdateRecoveryPoint(ctx context.Context, p *RecoveryPoint) error
	// DeleteRecoveryPoint removes the point from the catalog; ErrNotFound if absent.
	DeleteRecoveryPoint(ctx context.Context, id string) error
	// ListRecoveryPoints returns the points that match f.
	ListRecoveryPoints(ctx context.Context, f RecoveryPointFilter) (points []*RecoveryPoint, next string, err error)
	// ListProtectedResources returns each resource with at least one
	// COMPLETED recovery point, with its latest one.
	ListProtectedResources(ctx context.Context, p Page) (res []*ProtectedResource, next string, err error)
	// GetProtectedResource returns the resource with its latest COMPLETED
	// recovery point, or ErrNotFound if it has none.
	GetProtectedResource(ctx context.Context, resourceARN string) (*ProtectedResource, error)
	// ListProtectedResourcesByVault is ListProtectedResources within one
	// vault: each resource with a COMPLETED point there, with its latest
	// one there.
	ListProtectedResourcesByVault(ctx context.Context, vault string, p Page) (res []*ProtectedResource, next string, err error)
}

// RestoreJobStore keeps restore jobs.
type RestoreJobStore interface {
	// CreateRestoreJob stores j. Like CreateBackupJob, it fails with
	// *TokenInUseError if another restore job holds j's IdempotencyToken.
	CreateRestoreJob(ctx context.Context, j *RestoreJob) error
	// GetRestoreJob returns the job or ErrNotFound.
	GetRestoreJob(ctx context.Context, id string) (*RestoreJob, error)
	// UpdateRestoreJob replaces the stored job with j (matched by ID),
	// keeping its IdempotencyToken and RequestHash.
	UpdateRestoreJob(ctx context.Context, j *RestoreJob) error
	ListRestoreJobs(ctx context.Context, f RestoreJobFilter) (jobs []*RestoreJob, next string, err error)
}

// PlanStore keeps backup plans, their versions and their selections.
type PlanStore interface {
	// CreateBackupPlan stores the first version of p. It fails with
	// ErrAlreadyExists if a plan that is not deleted has the same name.
	CreateBackupPlan(ctx context.Context, p *BackupPlan) error
	// GetBackupPlan returns version versionID of the plan, or its latest
	// version if versionID is empty; ErrNotFound if either is unknown. A
	// deleted plan is returned with its DeletionDate set.
	GetBackupPlan(ctx context.Context, id, versionID string) (*BackupPlan, error)
	// ListBackupPlans returns the latest version of each plan, newest
	// first; deleted plans only with f.IncludeDeleted.
	ListBackupPlans(ctx context.Context, f BackupPlanFilter) (plans []*BackupPlan, next string, err error)
	// ListBackupPlanVersions returns every version of a plan, newest first;
	// ErrNotFound if there is no such plan.
	ListBackupPlanVersions(ctx context.Context, id string, p Page) (versions []*BackupPlan, next string, err error)
	// UpdateBackupPlan stores p as the plan's new latest version (p.VersionID
	// is new); ErrNotFound if the plan is unknown or deleted,
	// ErrAlreadyExists if another live plan has p's name.
	UpdateBackupPlan(ctx context.Context, p *BackupPlan) error
	// SetPlanLastExecution records when the plan last created a job.
	SetPlanLastExecution(ctx context.Context, id string, at time.Time) error
	// DeleteBackupPlan marks the plan deleted at the given time and returns
	// its latest version. It fails with ErrNotFound if the plan is unknown
	// or already deleted, and with ErrInvalidRequest while the plan has
	// selections; the check and the delete are one transaction.
	DeleteBackupPlan(ctx context.Context, id string, at time.Time) (*BackupPlan, error)

	// CreateBackupSelection stores s. It fails with ErrNotFound if its plan
	// is unknown or deleted, and with ErrAlreadyExists if the plan has a
	// selection of the same name.
	CreateBackupSelection(ctx context.Context, s *BackupSelection) error
	// GetBackupSelection returns the selection or ErrNotFound.
	GetBackupSelection(ctx context.Context, planID, selectionID string) (*BackupSelection, error)
	// ListBackupSelections returns a plan's selections, newest first;
	// ErrNotFound if the plan is unknown.
	ListBackupSelections(ctx context.Context, planID string, p Page) (sels []*BackupSelection, next string, err error)
	// DeleteBackupSelection removes the selection; ErrNotFound if absent.
	DeleteBackupSelection(ctx context.Context, planID, selectionID string) error

	// RuleCursor returns the last occurrence of a rule the scheduler has
	// handled (zero if none); SetRuleCursor moves it forward only: a time
	// before the stored one is ignored, so concurrent schedulers agree.
	RuleCursor(ctx context.Context, planID, ruleID string) (time.Time, error)
	SetRuleCursor(ctx context.Context, planID, ruleID string, at time.Time) error
}

// CopyJobStore keeps copy jobs.
type CopyJobStore interface {
	// CreateCopyJob stores j. Like CreateBackupJob, it fails with
	// *TokenInUseError if another copy job holds j's IdempotencyToken.
	CreateCopyJob(ctx context.Context, j *CopyJob) error
	// GetCopyJob returns the job or ErrNotFound.
	GetCopyJob(ctx context.Context, id string) (*CopyJob, error)
	// UpdateCopyJob replaces the stored job with j (matched by ID),
	// keeping its IdempotencyToken and RequestHash.
	UpdateCopyJob(ctx context.Context, j *CopyJob) error
	// ListCopyJobs returns the jobs that match f.
	ListCopyJobs(ctx context.Context, f CopyJobFilter) (jobs []*CopyJob, next string, err error)
}

// StackStore keeps the stacks cairn apply created.
type StackStore interface {
	// PutStack creates or replaces the stack of that name.
	PutStack(ctx context.Context, s *Stack) error
	// GetStack returns the stack or ErrNotFound.
	GetStack(ctx context.Context, name string) (*Stack, error)
	// DeleteStack removes the stack record; ErrNotFound if absent.
	DeleteStack(ctx context.Context, name string) error
	// ListStacks returns stacks by name.
	ListStacks(ctx context.Context, p Page) (stacks []*Stack, next string, err error)
}

// PolicyChanges are the changes one apply (or delete) of a backup policy
// makes to the plans and selections it manages. Every plan and selection
// created has ManagedBy set to the policy's name.
type PolicyChanges struct {
	// CreatePlans are new plans (first versions).
	CreatePlans []*BackupPlan
	// UpdatePlans are new versions of plans the policy manages.
	UpdatePlans []*BackupPlan
	// CreateSelections are new selections, of new plans or of plans the
	// policy manages.
	CreateSelections []*BackupSelection
	// DeleteSelections are selections the policy manages, removed.
	DeleteSelections []*BackupSelection
	// DeletePlans are plans (IDs) the policy manages, marked deleted at
	// DeletionDate after their selections are removed.
	DeletePlans  []string
	DeletionDate time.Time
}

// PolicyStore keeps governance policies. A backup policy's plans and
// selections change with it, in the same transaction: a policy is never
// stored half-applied.
type PolicyStore interface {
	// ApplyPolicy creates or replaces the policy p.Name (keeping its
	// CreationDate when it exists) and makes ch, all in one transaction:
	// if any part fails, nothing changes. Plans updated, deleted or given
	// selections, and selections deleted, must be managed by p.Name, else
	// it fails with ErrInvalidRequest; other errors are those of the
	// PlanStore methods that make the same changes.
	ApplyPolicy(ctx context.Context, p *Policy, ch PolicyChanges) error
	// GetPolicy returns the policy or ErrNotFound.
	GetPolicy(ctx context.Context, name string) (*Policy, error)
	// ListPolicies returns policies by name.
	ListPolicies(ctx context.Context, p Page) (policies []*Policy, next string, err error)
	// DeletePolicy removes the policy and makes ch (removing what it
	// manages) in one transaction; ErrNotFound if there is no such policy.
	DeletePolicy(ctx context.Context, name string, ch PolicyChanges) error
}

// TagStore changes the tags of vaults, backup plans and recovery points
// (Vault.Tags, BackupPlan.Tags, RecoveryPoint.Tags, which the other stores
// read with the resource).
type TagStore interface {
	// UpdateTags changes the tags of the resource t names in one
	// transaction: it reads them, calls update with them (an empty map if
	// there are none) and stores the map as update leaves it. If update
	// returns an error, UpdateTags returns it and changes nothing.
	// Concurrent calls for one resource do not lose each other's changes.
	// It fails with ErrNotFound if there is no such resource; a deleted
	// plan (DeletionDate set) is none. update runs inside the transaction:
	// it must be quick and do no I/O.
	UpdateTags(ctx context.Context, t TagTarget, update func(tags map[string]string) error) error
}

// Catalog is everything cairn remembers besides the backed-up bytes. It must
// be safe for concurrent use; every write is durable when the call returns.
type Catalog interface {
	VaultStore
	BackupJobStore
	RecoveryPointStore
	RestoreJobStore
	PlanStore
	CopyJobStore
	StackStore
	TagStore
	PolicyStore
	FrameworkStore
	GovernanceStore
	// Audit Manager's report plans and jobs (report.go).
	ReportStore
	// Counts for the job summaries (summary.go).
	JobSummaryStore
	// Pruning of old jobs (history.go).
	JobHistoryStore
	// The outbox of events, their deliveries and the vaults'
	// notification configurations (outbox.go).
	OutboxStore
	// Aggregates the metrics read at each scrape (observe.go).
	MetricsStore
	// cairn's own notification targets (notifytarget.go).
	NotificationTargetStore
	// Which node runs which job (queue.go).
	JobOwnerStore
	// What running jobs made durable, to resume them (checkpoint.go).
	CheckpointStore
	// The nodes that share the catalog (cluster.go).
	NodeStore
	Close() error
}

// FrameworkStore keeps AWS Backup Audit Manager frameworks, by name.
type FrameworkStore interface {
	// CreateFramework stores f. It fails with ErrAlreadyExists if a
	// framework of that name exists, and with ErrLimitExceeded if
	// MaxFrameworks frameworks exist or the controls of all frameworks
	// would number more than MaxFrameworkControls; the checks and the
	// insert are one transaction.
	CreateFramework(ctx context.Context, f *Framework) error
	// GetFramework returns the framework or ErrNotFound.
	GetFramework(ctx context.Context, name string) (*Framework, error)
	// ListFrameworks returns frameworks by name.
	ListFrameworks(ctx context.Context, p Page) (fws []*Framework, next string, err error)
	// UpdateFramework replaces the description, controls and idempotency
	// token of the framework f.Name; what it was created with (ARN,
	// CreationTime, account, region, tags) stays. ErrNotFound if there is no
	// such framework; ErrLimitExceeded as CreateFramework.
	UpdateFramework(ctx context.Context, f *Framework) error
	// DeleteFramework removes the framework; ErrNotFound if absent.
	DeleteFramework(ctx context.Context, name string) error
}
