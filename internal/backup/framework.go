package backup

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AWS Backup Audit Manager: frameworks of controls, and what evaluating
// them yields. The controls are evaluated by internal/audit.

// The controls cairn evaluates, named as AWS Backup Audit Manager names them.
const (
	ControlProtectedByBackupPlan       = "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"
	ControlPlanMinFrequencyRetention   = "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"
	ControlRecoveryPointMinRetention   = "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK"
	ControlLastRecoveryPointCreated    = "BACKUP_LAST_RECOVERY_POINT_CREATED"
	ControlRecoveryPointManualDeletion = "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"
)

// Framework deployment and framework statuses, as AWS names them. cairn
// deploys a framework in the request that creates or updates it, so a stored
// framework is always DeploymentCompleted and FrameworkActive.
const (
	DeploymentCompleted = "COMPLETED"
	FrameworkActive     = "ACTIVE"
)

// Limits of Audit Manager, as AWS documents them.
const (
	// MaxFrameworks is how many frameworks an account may have in a Region.
	MaxFrameworks = 10
	// MaxFrameworkControls is how many controls all frameworks of an
	// account may hold together (a control used in two frameworks counts
	// twice).
	MaxFrameworkControls = 50
	// MaxScopeResourceIDs is the most ComplianceResourceIds a scope takes.
	MaxScopeResourceIDs = 100
	// MaxFrameworkNameLen and MaxFrameworkDescriptionLen are the model's.
	MaxFrameworkNameLen        = 256
	MaxFrameworkDescriptionLen = 1024
)

// Framework is a named set of controls (AWS's DescribeFrameworkOutput).
type Framework struct {
	Name        string
	ARN         string
	Description string
	Controls    []FrameworkControl
	// CreationTime is when the framework was created; updates keep it.
	CreationTime     time.Time
	DeploymentStatus string
	FrameworkStatus  string
	// IdempotencyToken is the token of the request that created the
	// framework (or last updated it), as DescribeFramework reports it.
	IdempotencyToken string
	Tags             map[string]string
	AccountID        string
	Region           string
}

// FrameworkControl is one control of a framework: its name, its input
// parameters and what it evaluates.
type FrameworkControl struct {
	Name            string
	InputParameters []ControlInputParameter
	Scope           ControlScope
}

// ControlInputParameter is one name/value pair of a control.
type ControlInputParameter struct {
	Name  string
	Value string
}

// ControlScope narrows what a control evaluates. Empty means everything the
// control evaluates.
type ControlScope struct {
	// ComplianceResourceIDs names the resources (table ARNs or names,
	// recovery point ARNs or ids, plan ids or ARNs, vault names or ARNs).
	ComplianceResourceIDs []string
	// ComplianceResourceTypes are AWS Backup resource types ("DynamoDB").
	ComplianceResourceTypes []string
	// Tags: at most one key; an empty value matches any value of the key.
	Tags map[string]string
}

// IsZero reports whether the scope is empty (everything).
func (s ControlScope) IsZero() bool {
	return len(s.ComplianceResourceIDs) == 0 && len(s.ComplianceResourceTypes) == 0 && len(s.Tags) == 0
}

// FrameworkFilter selects frameworks for ListFrameworks: by name.
type FrameworkFilter struct{ Page }

// ControlParam describes one input parameter of a control.
type ControlParam struct {
	Name    string
	Default string
	// Values lists the accepted values of an enumerated parameter.
	Values []string
	// Min and Max bound an integer parameter (Max may depend on a unit
	// parameter: MaxBy).
	Integer  bool
	Min, Max int64
	// MaxBy names a unit parameter; MaxPerUnit gives the bound per unit.
	MaxBy      string
	MaxPerUnit map[string]int64
	// ARNList: a comma-separated list of at most MaxItems IAM ARNs.
	ARNList  bool
	MaxItems int
}

// ControlDef describes a control: what it evaluates and its parameters.
type ControlDef struct {
	Name string
	// Evaluates is what the verdicts are about: "resource" (a table),
	// "recovery point", "backup plan" or "backup vault".
	Evaluates string
	Params    []ControlParam
}

// What a control evaluates.
const (
	EvaluatesResource      = "resource"
	EvaluatesRecoveryPoint = "recovery point"
	EvaluatesBackupPlan    = "backup plan"
	EvaluatesBackupVault   = "backup vault"
)

// Input parameter names and units, as AWS names them.
const (
	ParamRequiredFrequencyUnit  = "requiredFrequencyUnit"
	ParamRequiredFrequencyValue = "requiredFrequencyValue"
	ParamRequiredRetentionDays  = "requiredRetentionDays"
	ParamRecoveryPointAgeUnit   = "recoveryPointAgeUnit"
	ParamRecoveryPointAgeValue  = "recoveryPointAgeValue"
	ParamPrincipalArnList       = "principalArnList"
	UnitHours                   = "hours"
	UnitDays                    = "days"
)

// Controls lists the controls cairn evaluates, with AWS's parameters and
// defaults.
var Controls = []ControlDef{
	{Name: ControlProtectedByBackupPlan, Evaluates: EvaluatesResource},
	{Name: ControlPlanMinFrequencyRetention, Evaluates: EvaluatesBackupPlan, Params: []ControlParam{
		{Name: ParamRequiredFrequencyUnit, Default: UnitDays, Values: []string{UnitHours, UnitDays}},
		{Name: ParamRequiredFrequencyValue, Default: "1", Integer: true, Min: 1,
			MaxBy: ParamRequiredFrequencyUnit, MaxPerUnit: map[string]int64{UnitHours: 24, UnitDays: 31}},
		{Name: ParamRequiredRetentionDays, Default: "35", Integer: true, Min: 1, Max: MaxLifecycleDays},
	}},
	{Name: ControlRecoveryPointMinRetention, Evaluates: EvaluatesRecoveryPoint, Params: []ControlParam{
		{Name: ParamRequiredRetentionDays, Default: "35", Integer: true, Min: 1, Max: MaxLifecycleDays},
	}},
	{Name: ControlLastRecoveryPointCreated, Evaluates: EvaluatesResource, Params: []ControlParam{
		{Name: ParamRecoveryPointAgeUnit, Default: UnitDays, Values: []string{UnitHours, UnitDays}},
		{Name: ParamRecoveryPointAgeValue, Default: "1", Integer: true, Min: 1,
			MaxBy: ParamRecoveryPointAgeUnit, MaxPerUnit: map[string]int64{UnitHours: 744, UnitDays: 31}},
	}},
	{Name: ControlRecoveryPointManualDeletion, Evaluates: EvaluatesBackupVault, Params: []ControlParam{
		{Name: ParamPrincipalArnList, ARNList: true, MaxItems: 5},
	}},
}

// ControlByName returns the definition of a control, or nil.
func ControlByName(name string) *ControlDef {
	for i := range Controls {
		if Controls[i].Name == name {
			return &Controls[i]
		}
	}
	return nil
}

// ControlNames returns the names of the controls cairn evaluates.
func ControlNames() []string {
	out := make([]string, len(Controls))
	for i, c := range Controls {
		out[i] = c.Name
	}
	return out
}

// ParamValues returns the control's parameters with defaults filled in for those
// not given. The control is expected to be valid (ValidateFrameworkControls).
func (d *ControlDef) ParamValues(given []ControlInputParameter) map[string]string {
	out := map[string]string{}
	for _, p := range d.Params {
		if p.Default != "" {
			out[p.Name] = p.Default
		}
	}
	for _, p := range given {
		out[p.Name] = p.Value
	}
	return out
}

// ScopeResourceTypes are the resource types AWS Backup Audit Manager accepts
// in ComplianceResourceTypes. Of them, cairn holds only DynamoDB tables: a
// scope of other types evaluates nothing.
var ScopeResourceTypes = []string{
	"Aurora", "CloudFormation", "DocumentDB", "DynamoDB", "EBS", "EC2", "EFS", "FSx", "Neptune", "RDS",
	"Redshift", "S3", "SAP HANA on Amazon EC2", "Storage Gateway", "Timestream", "VirtualMachine",
}

var (
	frameworkNameRE = regexp.MustCompile(`^[a-zA-Z][_a-zA-Z0-9]*$`)
	iamARNRE        = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:(role|user|root|group)(/.*)?$`)
)

// ValidateFrameworkName checks a framework name against AWS's rules.
func ValidateFrameworkName(name string) error {
	if name == "" {
		return &Error{Code: ErrMissingParameter, Message: "Missing required parameter FrameworkName", Type: "Parameter", Context: "FrameworkName"}
	}
	if len(name) > MaxFrameworkNameLen || !frameworkNameRE.MatchString(name) {
		return Errorf(ErrInvalidParameter, "FrameworkName %q is not valid: it must start with a letter and hold only letters, "+
			"digits and underscores, at most %d characters", name, MaxFrameworkNameLen)
	}
	return nil
}

// ValidateFrameworkDescription checks a description against AWS's rules.
func ValidateFrameworkDescription(d string) error {
	if len(d) > MaxFrameworkDescriptionLen {
		return Errorf(ErrInvalidParameter, "FrameworkDescription is %d characters long; at most %d are allowed", len(d), MaxFrameworkDescriptionLen)
	}
	if d != "" && strings.TrimSpace(d) == "" {
		return Errorf(ErrInvalidParameter, "FrameworkDescription must not be only white space")
	}
	return nil
}

// ValidateFrameworkControls checks a framework's controls: at least one,
// each a control cairn evaluates, at most once, with known parameters of
// valid values, and a valid scope. The error names the member at fault
// (FrameworkControls[1].ControlInputParameters[0]).
func ValidateFrameworkControls(cs []FrameworkControl) error {
	if len(cs) == 0 {
		return Errorf(ErrInvalidParameter, "FrameworkControls must hold at least one control")
	}
	if len(cs) > MaxFrameworkControls {
		return Errorf(ErrLimitExceeded, "FrameworkControls holds %d controls; an account may use at most %d", len(cs), MaxFrameworkControls)
	}
	seen := map[string]int{}
	for i, c := range cs {
		at := fmt.Sprintf("FrameworkControls[%d]", i)
		if c.Name == "" {
			return &Error{Code: ErrMissingParameter, Message: "Missing required parameter " + at + ".ControlName", Type: "Parameter", Context: at + ".ControlName"}
		}
		def := ControlByName(c.Name)
		if def == nil {
			return Errorf(ErrInvalidParameter, "%s.ControlName %q is not a control cairn evaluates; the controls are %s",
				at, c.Name, strings.Join(ControlNames(), ", "))
		}
		if j, ok := seen[c.Name]; ok {
			return Errorf(ErrInvalidParameter, "%s.ControlName %s is given twice (also FrameworkControls[%d]); a framework holds each control once", at, c.Name, j)
		}
		seen[c.Name] = i
		if err := validateControlParams(def, c.InputParameters, at); err != nil {
			return err
		}
		if err := validateControlScope(c.Scope, at+".ControlScope"); err != nil {
			return err
		}
	}
	return nil
}

func validateControlParams(def *ControlDef, ps []ControlInputParameter, at string) error {
	given := map[string]string{}
	for j, p := range ps {
		pat := fmt.Sprintf("%s.ControlInputParameters[%d]", at, j)
		var pd *ControlParam
		for k := range def.Params {
			if def.Params[k].Name == p.Name {
				pd = &def.Params[k]
			}
		}
		if pd == nil {
			if len(def.Params) == 0 {
				return Errorf(ErrInvalidParameter, "%s.ParameterName %q: control %s takes no input parameters", pat, p.Name, def.Name)
			}
			names := make([]string, len(def.Params))
			for k, q := range def.Params {
				names[k] = q.Name
			}
			return Errorf(ErrInvalidParameter, "%s.ParameterName %q is not a parameter of %s; it takes %s", pat, p.Name, def.Name, strings.Join(names, ", "))
		}
		if _, dup := given[p.Name]; dup {
			return Errorf(ErrInvalidParameter, "%s.ParameterName %s is given twice", pat, p.Name)
		}
		given[p.Name] = p.Value
	}
	values := def.ParamValues(ps)
	paramDef := func(name string) ControlParam {
		for _, q := range def.Params {
			if q.Name == name {
				return q
			}
		}
		return ControlParam{}
	}
	// Units first: an integer's bounds depend on its unit.
	for j, p := range ps {
		if pd := paramDef(p.Name); len(pd.Values) > 0 && !slices.Contains(pd.Values, p.Value) {
			return Errorf(ErrInvalidParameter, "%s.ControlInputParameters[%d].ParameterValue %q of %s must be one of %s",
				at, j, p.Value, p.Name, strings.Join(pd.Values, ", "))
		}
	}
	for j, p := range ps {
		pat := fmt.Sprintf("%s.ControlInputParameters[%d].ParameterValue", at, j)
		pd := paramDef(p.Name)
		switch {
		case pd.Integer:
			n, err := strconv.ParseInt(p.Value, 10, 64)
			if err != nil {
				return Errorf(ErrInvalidParameter, "%s %q of %s must be a whole number", pat, p.Value, p.Name)
			}
			hi := pd.Max
			unit := ""
			if pd.MaxBy != "" {
				unit = values[pd.MaxBy]
				hi = pd.MaxPerUnit[unit]
			}
			if n < pd.Min || n > hi {
				in := ""
				if unit != "" {
					in = " " + unit
				}
				return Errorf(ErrInvalidParameter, "%s %d of %s is out of range: %d to %d%s", pat, n, p.Name, pd.Min, hi, in)
			}
		case pd.ARNList:
			if strings.TrimSpace(p.Value) == "" {
				continue
			}
			arns := strings.Split(p.Value, ",")
			if len(arns) > pd.MaxItems {
				return Errorf(ErrInvalidParameter, "%s of %s names %d ARNs; at most %d are allowed", pat, p.Name, len(arns), pd.MaxItems)
			}
			for _, a := range arns {
				if !iamARNRE.MatchString(strings.TrimSpace(a)) {
					return Errorf(ErrInvalidParameter, "%s of %s: %q is not an IAM role or user ARN", pat, p.Name, strings.TrimSpace(a))
				}
			}
		}
	}
	return nil
}

func validateControlScope(s ControlScope, at string) error {
	if s.ComplianceResourceIDs != nil && len(s.ComplianceResourceIDs) == 0 {
		return Errorf(ErrInvalidParameter, "%s.ComplianceResourceIds must name at least one resource when given", at)
	}
	if len(s.ComplianceResourceIDs) > MaxScopeResourceIDs {
		return Errorf(ErrInvalidParameter, "%s.ComplianceResourceIds names %d resources; at most %d are allowed", at, len(s.ComplianceResourceIDs), MaxScopeResourceIDs)
	}
	for i, id := range s.ComplianceResourceIDs {
		if strings.TrimSpace(id) == "" {
			return Errorf(ErrInvalidParameter, "%s.ComplianceResourceIds[%d] is empty", at, i)
		}
	}
	for i, t := range s.ComplianceResourceTypes {
		if !slices.Contains(ScopeResourceTypes, t) {
			return Errorf(ErrInvalidParameter, "%s.ComplianceResourceTypes[%d] %q is not an AWS Backup resource type; cairn protects %s",
				at, i, t, ResourceTypeDynamoDB)
		}
	}
	if len(s.Tags) > 1 {
		return Errorf(ErrInvalidParameter, "%s.Tags holds %d tags; a control scope takes at most one key-value pair", at, len(s.Tags))
	}
	for k := range s.Tags {
		if k == "" {
			return Errorf(ErrInvalidParameter, "%s.Tags has an empty key", at)
		}
	}
	return nil
}

// CloneFramework returns a deep copy of f.
func CloneFramework(f *Framework) *Framework {
	c := *f
	c.Tags = maps.Clone(f.Tags)
	c.Controls = CloneControls(f.Controls)
	return &c
}

// CloneControls returns a deep copy of cs.
func CloneControls(cs []FrameworkControl) []FrameworkControl {
	out := slices.Clone(cs)
	for i := range out {
		out[i].InputParameters = slices.Clone(out[i].InputParameters)
		out[i].Scope.ComplianceResourceIDs = slices.Clone(out[i].Scope.ComplianceResourceIDs)
		out[i].Scope.ComplianceResourceTypes = slices.Clone(out[i].Scope.ComplianceResourceTypes)
		out[i].Scope.Tags = maps.Clone(out[i].Scope.Tags)
	}
	return out
}

// Compliance is a verdict, as AWS Backup Audit Manager reports it.
type Compliance string

const (
	Compliant    Compliance = "COMPLIANT"
	NonCompliant Compliance = "NON_COMPLIANT"
)

// ResourceEvaluation is one control's verdict on one resource it evaluates.
type ResourceEvaluation struct {
	// ResourceARN names what was evaluated: a table, a recovery point, a
	// backup plan or a backup vault.
	ResourceARN  string
	ResourceType string // DynamoDB, RecoveryPoint, BackupPlan or BackupVault
	ResourceName string
	Compliance   Compliance
	Reason       string
}

// ControlEvaluation is one control's verdicts.
type ControlEvaluation struct {
	ControlName string
	Evaluates   string // EvaluatesResource, ...
	// Parameters are the values used, defaults included.
	Parameters map[string]string
	Scope      ControlScope
	// Compliance is NON_COMPLIANT if any resource is, else COMPLIANT (also
	// when nothing is in scope).
	Compliance Compliance
	Resources  []ResourceEvaluation
	// Note says what could not be evaluated (a source that did not answer).
	Note string
}

// Counts returns how many resources are compliant and non-compliant.
func (c *ControlEvaluation) Counts() (compliant, nonCompliant int) {
	for _, r := range c.Resources {
		if r.Compliance == Compliant {
			compliant++
		} else {
			nonCompliant++
		}
	}
	return compliant, nonCompliant
}

// FrameworkEvaluation is a framework evaluated at one moment.
type FrameworkEvaluation struct {
	FrameworkName string
	FrameworkARN  string
	EvaluatedAt   time.Time
	Controls      []ControlEvaluation
	// FailedSources names the DynamoDB sources that could not be listed;
	// their tables are missing from the table-based controls' verdicts.
	FailedSources []string
}
