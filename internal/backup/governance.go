package backup

import (
	"context"
	"time"
)

// Governance: cairn's equivalent of superwerker's tag policy with
// remediation and of AWS Config's REQUIRED_TAGS rule. The worker
// (internal/governance) tags tables, records each attempt and each
// disallowed value it sees in the catalog (GovernanceStore), and gives
// every table of every source a verdict (Compliance). AWS Backup has no
// such API; it is a cairn extension served under /cairn/compliance.

// Verdict is a table's governance state, after AWS Config's compliance
// types.
type Verdict string

// Verdicts. NOT_APPLICABLE (a table a rule's exclusions or scope leave out)
// is AWS Config's; OPTED_OUT (the tag's opt-out value, superwerker's
// "none") is cairn's.
const (
	VerdictCompliant     Verdict = "COMPLIANT"
	VerdictNonCompliant  Verdict = "NON_COMPLIANT"
	VerdictOptedOut      Verdict = "OPTED_OUT"
	VerdictUnknown       Verdict = "UNKNOWN"
	VerdictNotApplicable Verdict = "NOT_APPLICABLE"
)

// Outcomes of a TagAttempt.
const (
	TagAttemptSucceeded = "SUCCEEDED"
	TagAttemptFailed    = "FAILED"
	// TagAttemptDryRun is an attempt a dry run only reports.
	TagAttemptDryRun = "DRY_RUN"
	// TagAttemptSkipped is a write given up because the re-read before
	// it found the key already set (by someone else since discovery).
	TagAttemptSkipped = "SKIPPED"
)

// TagAttempt is one try of the governance worker to give a table its
// required tag: add the key when it is missing, or reset a value the rule
// does not allow (remediate mode).
type TagAttempt struct {
	ID           int64
	Source       string
	ResourceARN  string
	ResourceName string
	Rule         string
	Key          string
	Value        string // the value written (or that would be)
	// Reason says why the tag was written, e.g. "tag superwerker:backup
	// missing" or "value weekly not allowed".
	Reason string
	// Attempt counts the tries of one remediation, from 1.
	Attempt int
	Time    time.Time
	Outcome string // TagAttemptSucceeded, ...
	Error   string // why it failed
}

// TagViolation is a value of a required tag that its rule does not allow,
// from the pass that saw it until the pass that saw it gone (reset by the
// worker, changed by someone, or the table deleted).
type TagViolation struct {
	ID           int64
	Source       string
	ResourceARN  string
	ResourceName string
	Rule         string
	Key          string
	Value        string
	Mode         string // "report" or "remediate"
	SeenAt       time.Time
	ResolvedAt   time.Time // zero while open
	Resolution   string
}

// Open reports whether the violation has not been resolved.
func (v *TagViolation) Open() bool { return v.ResolvedAt.IsZero() }

// TagViolationFilter selects violations; zero values select all.
type TagViolationFilter struct {
	ResourceARN string
	OpenOnly    bool
}

// GovernanceStore records what the governance worker did and saw.
type GovernanceStore interface {
	// AddTagAttempt records an attempt and sets its ID.
	AddTagAttempt(ctx context.Context, a *TagAttempt) error
	// ListTagAttempts returns the attempts on resourceARN (all resources
	// when empty), newest first, at most limit of them (all when 0).
	ListTagAttempts(ctx context.Context, resourceARN string, limit int) ([]*TagAttempt, error)
	// OpenTagViolation records v unless a violation of the same resource,
	// key and value is open; it returns the open one and whether it is new.
	OpenTagViolation(ctx context.Context, v *TagViolation) (*TagViolation, bool, error)
	// ResolveTagViolation closes an open violation; ErrNotFound if no open
	// violation has that ID.
	ResolveTagViolation(ctx context.Context, id int64, at time.Time, resolution string) error
	// ListTagViolations returns violations, newest first.
	ListTagViolations(ctx context.Context, f TagViolationFilter) ([]*TagViolation, error)
}

// TableCompliance is one table's verdict with what it rests on.
type TableCompliance struct {
	Source       string
	ResourceARN  string
	ResourceName string
	Rule         string // the governance rule that judged it
	TagKey       string
	TagValue     string // "" when the table lacks the key
	HasTag       bool
	Verdict      Verdict
	Reason       string
	// Plans names the plans (and rules) that back the table up.
	Plans []string
	// LastBackupTime is the creation of its latest COMPLETED recovery
	// point; zero if none.
	LastBackupTime       time.Time
	LastRecoveryPointARN string
	// NextRun is the earliest next scheduled run of a covering rule.
	NextRun time.Time
	// EvaluatedAt is when the verdict was made.
	EvaluatedAt time.Time
	// Violation is the open violation of the table, if any.
	Violation *TagViolation
}

// ComplianceReport is every table's verdict, source by source and table
// by table in name order, as of the worker's last pass.
type ComplianceReport struct {
	Enabled  bool
	DryRun   bool
	LastPass time.Time
	// Passes counts the passes this process made.
	Passes    int
	Resources []TableCompliance
}

// ComplianceService answers what the governance worker found.
type ComplianceService interface {
	// Compliance returns the verdicts of the last pass; a non-empty
	// resourceName keeps the tables of that name.
	Compliance(ctx context.Context, resourceName string) (*ComplianceReport, error)
}
