package governance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// Defaults of Config.
const (
	DefaultInterval    = 10 * time.Second
	DefaultMaxAttempts = 10 // superwerker's MaximumAutomaticAttempts
	DefaultRetryDelay  = time.Minute
	DefaultRate        = 50 // DynamoDB calls per second and source
	DefaultWorkers     = 8
)

// Source is one DynamoDB source as the worker sees it.
type Source struct {
	Name      string
	Inventory dynamodb.Inventory
	Tagger    dynamodb.Tagger
}

// Backups is what the worker reads of cairn's backups: plans, their
// selections and the latest COMPLETED point of each resource. backup.Service
// implements it.
type Backups interface {
	ListBackupPlans(ctx context.Context, f backup.BackupPlanFilter) ([]*backup.BackupPlan, string, error)
	ListBackupSelections(ctx context.Context, planID string, p backup.Page) ([]*backup.BackupSelection, string, error)
	ListProtectedResources(ctx context.Context, p backup.Page) ([]*backup.ProtectedResource, string, error)
}

// Config wires a Worker. Zero values take the documented defaults.
type Config struct {
	// Leader, when set, says whether this node is the cluster's leader
	// (backup.Cluster.IsLeader): the background loop passes only on the
	// leader, so tables are tagged and violations recorded once across
	// the nodes. nil: always (a server alone on its catalog).
	Leader func() bool
	// Rules are configured rules; the rules of the tag policies Policies
	// holds are added at every pass.
	Rules    []Rule
	Policies Policies
	Sources  []Source
	Backups  Backups
	Store    backup.GovernanceStore
	Clock    clock.Clock
	Logger   *slog.Logger
	// Interval is the time between passes; default 10s.
	Interval time.Duration
	// DryRun makes every rule a dry run (the server's --dry-run).
	DryRun bool
	// MaxAttempts and RetryDelay: a failed write is tried again
	// RetryDelay later, MaxAttempts times in all; default 10 and 60s.
	MaxAttempts int
	RetryDelay  time.Duration
	// Rate caps the DynamoDB calls per second to each source; default
	// 50, negative for no cap.
	Rate float64
	// Workers is how many tables of a source are read at once; default 8.
	Workers int
	// Retry is the backoff of one call's transient errors.
	Retry dynamodb.RetryPolicy
	// Sleep waits between passes; default a timer. Tests run Pass
	// themselves.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Validate checks the config and names the field at fault.
func (c *Config) Validate() error {
	if len(c.Rules) == 0 && c.Policies == nil {
		return errors.New("governance: no rules and no policies")
	}
	keys := map[string]bool{}
	for i := range c.Rules {
		if err := c.Rules[i].Validate(); err != nil {
			return err
		}
		if keys[c.Rules[i].Key] {
			return fmt.Errorf("governance rule %s: a rule for key %s is defined already", c.Rules[i].Name, c.Rules[i].Key)
		}
		keys[c.Rules[i].Key] = true
	}
	switch {
	case c.Backups == nil:
		return errors.New("governance: Config.Backups is required")
	case c.Store == nil:
		return errors.New("governance: Config.Store is required")
	case c.Interval < 0:
		return fmt.Errorf("governance: interval %v must not be negative", c.Interval)
	}
	return nil
}

// Worker runs governance passes. It is safe for concurrent use.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	sources []*source

	passMu sync.Mutex // one pass at a time
	// passRules are the rules of the pass in progress; lastRules those
	// last read from the policies. Both under passMu.
	passRules []Rule
	lastRules []Rule

	mu       sync.Mutex
	report   *backup.ComplianceReport
	passes   int
	pending  map[string]*remediation // by resource ARN and key
	seen     map[string]time.Time    // first pass that saw each ARN
	reported map[string]bool         // dry-run attempts recorded once

	cancel context.CancelFunc
	done   chan struct{}
}

// source is a Source with its call budget and what the last pass saw.
type source struct {
	Source
	inv   dynamodb.Inventory // retried, limited
	tag   dynamodb.Tagger    // retried, limited
	arnOf *arnCache
	// known are the tables of the last pass that answered; down is the
	// error of the last pass, nil if it answered.
	known     []table
	down      error
	downSince time.Time
}

// New returns a Worker for cfg.
func New(cfg Config) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Retry.MaxAttempts == 0 {
		cfg.Retry.MaxAttempts = 4
	}
	if cfg.Retry.MaxElapsed == 0 {
		cfg.Retry.MaxElapsed = 30 * time.Second
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, pending: map[string]*remediation{}, seen: map[string]time.Time{},
		reported: map[string]bool{}}
	for _, s := range cfg.Sources {
		var lim *dynamodb.Limiter
		if cfg.Rate > 0 {
			lim = dynamodb.NewLimiter(cfg.Rate, dynamodb.LimiterOptions{})
		}
		src := &source{Source: s, arnOf: &arnCache{}}
		src.inv = dynamodb.NewRetryInventory(&limitedInventory{inv: s.Inventory, lim: lim}, cfg.Retry)
		if s.Tagger != nil {
			src.tag = dynamodb.NewRetryTagger(&limitedTagger{t: s.Tagger, lim: lim}, cfg.Retry)
		}
		w.sources = append(w.sources, src)
	}
	return w, nil
}

// Start runs a pass at once and then every interval, until Stop.
func (w *Worker) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		for {
			if w.cfg.Leader != nil && !w.cfg.Leader() {
				// Another node leads and passes; this one asks again next time.
			} else if err := w.Pass(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("governance pass failed", "err", err)
			}
			if w.cfg.Sleep(ctx, w.cfg.Interval) != nil {
				return
			}
		}
	}()
}

// Stop ends the loop and waits for a pass in progress to return; its
// DynamoDB calls are cancelled. Each write is one TagResource call, so a
// pass cut short leaves every table either tagged or not.
func (w *Worker) Stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	<-w.done
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Compliance returns the verdicts of the last pass (backup.ComplianceService).
func (w *Worker) Compliance(_ context.Context, resourceName string) (*backup.ComplianceReport, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := &backup.ComplianceReport{Enabled: len(w.cfg.Rules) > 0, DryRun: w.cfg.DryRun, Passes: w.passes}
	if w.report == nil {
		return out, nil
	}
	out.Enabled, out.LastPass = w.report.Enabled, w.report.LastPass
	for _, r := range w.report.Resources {
		if resourceName == "" || r.ResourceName == resourceName || r.ResourceARN == resourceName {
			out.Resources = append(out.Resources, r)
		}
	}
	return out, nil
}

// Pass discovers every source, tags and remediates what the rules say, and
// makes every table's verdict. A source that does not answer leaves its
// tables UNKNOWN; the others are handled all the same.
func (w *Worker) Pass(ctx context.Context) error {
	w.passMu.Lock()
	defer w.passMu.Unlock()
	now := w.cfg.Clock.Now()
	w.passRules = w.rules(ctx)
	if len(w.passRules) == 0 {
		// Governance is off until a rule or a tag policy exists.
		w.mu.Lock()
		w.passes++
		w.report = &backup.ComplianceReport{LastPass: now, Passes: w.passes}
		w.mu.Unlock()
		return nil
	}
	cov, err := w.loadCoverage(ctx)
	if err != nil {
		return err
	}
	open, err := w.cfg.Store.ListTagViolations(ctx, backup.TagViolationFilter{OpenOnly: true})
	if err != nil {
		return fmt.Errorf("governance: open violations: %w", err)
	}
	openBy := map[string][]*backup.TagViolation{}
	for _, v := range open {
		openBy[v.ResourceARN] = append(openBy[v.ResourceARN], v)
	}
	var rows []backup.TableCompliance
	var evals []*evaluation
	claimed := map[string]bool{}
	for _, src := range w.sources {
		log := w.log.With("source", src.Name)
		tables, err := w.discover(ctx, src)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if src.down == nil {
				src.downSince = now
				log.Warn("governance cannot list the tables of a source; its tables are UNKNOWN until it answers", "err", err)
			}
			src.down = err
			rows = append(rows, w.unknownRows(src, now)...)
			continue
		}
		if src.down != nil {
			log.Info("source answers again", "down_since", src.downSince)
		}
		src.down, src.known = nil, tables
		present := map[string]bool{}
		for i := range tables {
			t := &tables[i]
			present[t.arn] = true
			if claimed[t.arn] {
				continue // served by an earlier source with the same endpoint
			}
			claimed[t.arn] = true
			evals = append(evals, w.handle(ctx, src, t, openBy[t.arn], now))
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		// Violations of tables this source no longer has are over.
		for arn, vs := range openBy {
			if present[arn] {
				continue
			}
			for _, v := range vs {
				if v.Source == src.Name {
					w.resolve(ctx, v, now, "table deleted")
				}
			}
		}
	}
	res := make([]backup.Resource, len(evals))
	for i, e := range evals {
		res[i] = backup.Resource{ARN: e.row.ResourceARN, Type: backup.ResourceTypeDynamoDB, Name: e.row.ResourceName, Tags: e.tags}
	}
	cov.resolve(res)
	for _, e := range evals {
		c := cov.of(e.row.ResourceARN, now)
		e.row.Plans, e.row.LastBackupTime, e.row.LastRecoveryPointARN, e.row.NextRun = c.plans, c.lastBackup, c.lastPoint, c.nextRun
		e.row.Verdict, e.row.Reason = decide(e.states, c, e.first, now)
		if e.unknown != "" {
			e.row.Verdict, e.row.Reason = backup.VerdictUnknown, e.unknown
		}
		rows = append(rows, e.row)
	}
	slices.SortStableFunc(rows, func(a, b backup.TableCompliance) int {
		if a.Source != b.Source {
			return cmpSourceOrder(w.sources, a.Source, b.Source)
		}
		return compareStrings(a.ResourceName, b.ResourceName)
	})
	w.mu.Lock()
	w.passes++
	w.report = &backup.ComplianceReport{Enabled: true, DryRun: w.cfg.DryRun, LastPass: now, Passes: w.passes, Resources: rows}
	w.mu.Unlock()
	return nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpSourceOrder(srcs []*source, a, b string) int {
	ia := slices.IndexFunc(srcs, func(s *source) bool { return s.Name == a })
	ib := slices.IndexFunc(srcs, func(s *source) bool { return s.Name == b })
	return ia - ib
}

// unknownRows are the verdicts of a source that did not answer: the tables
// it had at its last answer, or one row for the source if it never did.
func (w *Worker) unknownRows(src *source, now time.Time) []backup.TableCompliance {
	reason := fmt.Sprintf("source %s does not answer since %s: %v", src.Name, src.downSince.Format(time.RFC3339), src.down)
	if len(src.known) == 0 {
		return []backup.TableCompliance{{Source: src.Name, ResourceName: "*", Verdict: backup.VerdictUnknown,
			Reason: reason, EvaluatedAt: now}}
	}
	out := make([]backup.TableCompliance, 0, len(src.known))
	for _, t := range src.known {
		out = append(out, backup.TableCompliance{Source: src.Name, ResourceARN: t.arn, ResourceName: t.name,
			Verdict: backup.VerdictUnknown, Reason: reason, EvaluatedAt: now})
	}
	return out
}

// evaluation is one table after its rules were applied, waiting for the
// pass's coverage.
type evaluation struct {
	row    backup.TableCompliance
	tags   map[string]string
	states []tagState
	first  time.Time
	// unknown, when set, is why the table cannot be judged.
	unknown string
}

// handle applies every rule to one table.
func (w *Worker) handle(ctx context.Context, src *source, t *table, open []*backup.TagViolation, now time.Time) *evaluation {
	w.mu.Lock()
	first, ok := w.seen[t.arn]
	if !ok {
		first = now
		w.seen[t.arn] = now
	}
	w.mu.Unlock()
	e := &evaluation{first: first, row: backup.TableCompliance{Source: src.Name, ResourceARN: t.arn, ResourceName: t.name, EvaluatedAt: now}}
	if t.noTags != "" {
		e.row.Rule, e.row.TagKey = w.passRules[0].Name, w.passRules[0].Key
		e.unknown = "the source does not list the table's tags: " + t.noTags
		return e
	}
	for i := range w.passRules {
		r := &w.passRules[i]
		st := w.applyRule(ctx, src, t, r, open, now)
		if e.row.Rule == "" && st.kind != tagExcluded {
			e.row.Rule, e.row.TagKey = r.Name, r.Key
			e.row.Violation = st.violation
		}
		e.states = append(e.states, st)
	}
	if e.row.Rule == "" {
		e.row.Rule, e.row.TagKey = w.passRules[0].Name, w.passRules[0].Key
	}
	e.row.TagValue, e.row.HasTag = t.tags[e.row.TagKey], t.hasKey(e.row.TagKey)
	e.tags = t.tags
	return e
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// table is one table as discovery found it.
type table struct {
	name, arn string
	tags      map[string]string
	// noTags says why the source would not list the table's tags (it
	// does not implement ListTagsOfResource, or refuses it); such a table
	// is UNKNOWN and never written to.
	noTags string
}

// tagKind is what a rule found on a table.
type tagKind int

const (
	tagOK       tagKind = iota // an allowed value
	tagOptOut                  // the rule's opt-out value
	tagBad                     // missing or not allowed, not (yet) fixed
	tagExcluded                // the rule leaves the table alone
)

type tagState struct {
	kind      tagKind
	reason    string
	violation *backup.TagViolation
}

// applyRule tags or remediates t as rule r says and returns what it holds
// afterwards. t.tags is updated with what was written.
func (w *Worker) applyRule(ctx context.Context, src *source, t *table, r *Rule, open []*backup.TagViolation, now time.Time) tagState {
	if why := r.excluded(src.Name, t.name); why != "" {
		return tagState{kind: tagExcluded, reason: why}
	}
	value, has := t.tags[r.Key]
	if has && r.allowed(value) {
		for _, v := range open {
			if v.Key == r.Key {
				w.resolve(ctx, v, now, fmt.Sprintf("value is now %s", value))
			}
		}
		w.clearPending(t.arn, r.Key)
		if r.OptOut != "" && value == r.OptOut {
			return tagState{kind: tagOptOut, reason: fmt.Sprintf("tag %s=%s opts out of backups", r.Key, value)}
		}
		return tagState{kind: tagOK}
	}
	var st tagState
	if !has {
		st.reason = fmt.Sprintf("tag %s missing", r.Key)
	} else {
		st.reason = fmt.Sprintf("value %q of tag %s not allowed (allowed: %s)", value, r.Key, joinQuoted(r.Allowed))
		for _, v := range open {
			if v.Key == r.Key && v.Value != value {
				w.resolve(ctx, v, now, fmt.Sprintf("value is now %s", value))
			}
		}
		nv, isNew, err := w.cfg.Store.OpenTagViolation(ctx, &backup.TagViolation{Source: src.Name, ResourceARN: t.arn,
			ResourceName: t.name, Rule: r.Name, Key: r.Key, Value: value, Mode: string(r.mode()), SeenAt: now})
		if err != nil {
			w.log.Error("cannot record a tag violation", "resource", t.arn, "err", err)
		} else {
			st.violation = nv
			if isNew {
				w.log.Warn("tag value not allowed", "resource", t.arn, "key", r.Key, "value", value, "mode", string(r.mode()))
			}
		}
		if r.mode() != ModeRemediate {
			st.kind = tagBad
			st.reason += "; reported (mode report)"
			return st
		}
	}
	if !r.enforced() {
		st.kind = tagBad
		st.reason += fmt.Sprintf("; rule %s is not enforced for %s, so cairn does not write it", r.Name, ResourceTypeTable)
		return st
	}
	if r.Default == "" {
		st.kind = tagBad
		st.reason += fmt.Sprintf("; rule %s has no default value, so cairn does not write it", r.Name)
		return st
	}
	ok, note := w.remediate(ctx, src, t, r, st.reason, now)
	if ok {
		if st.violation != nil {
			w.resolve(ctx, st.violation, now, fmt.Sprintf("reset to %s", r.Default))
			st.violation.ResolvedAt, st.violation.Resolution = now, fmt.Sprintf("reset to %s", r.Default)
		}
		if nv, has := t.tags[r.Key]; has && r.allowed(nv) {
			if r.OptOut != "" && nv == r.OptOut {
				return tagState{kind: tagOptOut, reason: fmt.Sprintf("tag %s=%s opts out of backups", r.Key, nv), violation: st.violation}
			}
			return tagState{kind: tagOK, violation: st.violation}
		}
	}
	st.kind = tagBad
	st.reason += "; " + note
	return st
}

func joinQuoted(vs []string) string {
	if len(vs) == 0 {
		return "any"
	}
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}

func (w *Worker) resolve(ctx context.Context, v *backup.TagViolation, now time.Time, why string) {
	if !v.Open() {
		return
	}
	if err := w.cfg.Store.ResolveTagViolation(ctx, v.ID, now, why); err != nil && !backup.IsNotFound(err) {
		w.log.Error("cannot record a tag violation's resolution", "resource", v.ResourceARN, "err", err)
		return
	}
	w.log.Info("tag violation resolved", "resource", v.ResourceARN, "key", v.Key, "value", v.Value, "resolution", why)
}

// snapshotTags copies a tag map.
func snapshotTags(m map[string]string) map[string]string { return maps.Clone(m) }
