// Package runner is cairn's application service: it implements
// backup.Service on top of the catalog, the vaults and the DynamoDB sources,
// and runs backup and restore jobs in the background.
//
// A job's life: StartBackupJob (or the scheduler, for a due plan rule)
// stores it CREATED and queues it; a worker slot moves it to RUNNING, streams
// the table into a new recovery point (engine), and ends it COMPLETED,
// FAILED, ABORTED or EXPIRED. One job per resource runs at a time: others
// wait PENDING. Only a recovery point whose data is complete in the vault is
// ever marked COMPLETED in the catalog. On start, Recover queues again the
// jobs a previous process had not started yet, ends every job it left
// running as FAILED with a reason and removes the partial data it left.
// Shutdown stops a process gracefully: no new job starts, running jobs get
// a grace period to finish, and those still running at its end are put
// back in the queue (their partial data removed) instead of failing.
//
// The scheduler (Tick, run by Start) turns plan rules into jobs and ends
// jobs whose start or completion window closed; see docs/plans.md.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/google/uuid"
)

// Source is one place DynamoDB tables are read from and restored to: an AWS
// account and region, or a DynamoDB-compatible endpoint.
type Source struct {
	// Name identifies the source in restore metadata (cairn:TargetSource).
	Name string
	// Region and AccountID select which table ARNs the source serves; empty
	// matches any.
	Region    string
	AccountID string
	Client    *dynamodb.Client
}

func (s *Source) matches(a backup.ARN) bool {
	return (s.Region == "" || s.Region == a.Region) && (s.AccountID == "" || s.AccountID == a.AccountID)
}

// Config wires a Service. Zero values take the documented defaults.
type Config struct {
	Catalog backup.Catalog
	// Sources are tried in order; the first that matches a table ARN's
	// region and account serves it.
	Sources []*Source
	// OpenStore opens the blob store of a vault's storage.
	OpenStore func(ctx context.Context, st backup.VaultStorage) (blob.Store, error)
	// DataDir holds vaults created without explicit storage
	// (DATADIR/vaults/NAME).
	DataDir string
	// Storage is where the operator lets vaults keep data beyond
	// DATADIR/vaults; zero allows nothing else. See storage.go.
	Storage backup.StoragePolicy
	// SweepInterval is how often the lifecycle worker looks for incomplete
	// recovery points nobody writes any more (besides the sweep at start);
	// default 6h.
	SweepInterval time.Duration
	// OrphanMinAge is how old an incomplete point in an S3 vault must be
	// before a sweep removes it when nothing proves this vault started it
	// (points written before _started named their vault); default 24h.
	OrphanMinAge time.Duration
	Region       string // of cairn's own ARNs; default us-east-1
	AccountID    string // of cairn's own ARNs; default 000000000000
	Clock        clock.Clock
	Logger       *slog.Logger
	// MaxJobs is how many jobs run at once; default 4. Others wait CREATED.
	MaxJobs int
	// Retry is the policy for DynamoDB throttling and transient errors.
	Retry dynamodb.RetryPolicy
	// ProgressInterval is how often a running job's progress is saved;
	// default 1s.
	ProgressInterval time.Duration
	// RestoreWriters is the number of parallel BatchWriteItem callers per
	// restore; default 8.
	RestoreWriters int
	// CheckpointItems and CheckpointInterval bound the work of a backup's
	// scan segment between two checkpoints (checkpoints.go); 0 is
	// engine.DefaultCheckpointItems and engine.DefaultCheckpointInterval.
	// A resumed backup scans again at most about this much per segment.
	CheckpointItems    int64
	CheckpointInterval time.Duration
	// Compression of data files: "zstd" (default), "gzip" or "none"; a
	// vault's (backup.TagCompression) and a job's BackupOptions override it.
	Compression string
	// SchedulerInterval is how often the scheduler looks for due plan rules
	// and expired windows; default 10s.
	SchedulerInterval time.Duration
	// LifecycleInterval is how often recovery points are moved to cold
	// storage or deleted as their lifecycle says; default 1m.
	LifecycleInterval time.Duration
	// WrapScanner, when set, wraps the scanner of every backup beneath
	// the retry policy (fault injection in tests).
	WrapScanner func(dynamodb.Scanner) dynamodb.Scanner
	// WrapWriter, when set, wraps the writer of every restore beneath the
	// retry policy (fault injection in tests: a strict target, a table
	// that is not found at first).
	WrapWriter func(dynamodb.Writer) dynamodb.Writer
	// StartupVaultTimeout bounds the time Recover spends on one vault;
	// default 10s. What it cannot finish in time is skipped, logged and
	// retried in the background.
	StartupVaultTimeout time.Duration
	// Reports runs report plans and report jobs (internal/report); nil
	// makes them unavailable.
	Reports backup.ReportService
	// JobHistory is how long backup, restore and copy jobs are kept after
	// they end (the server's job_history_days); 0 keeps them for ever.
	// PruneHistory deletes older ones, on the lifecycle worker's interval.
	JobHistory time.Duration
	// Notifier sends cairn notify test's events (internal/notify's
	// Sender); nil makes TestNotification unavailable.
	Notifier Notifier
	// Observer, when set, is told of every job this process starts and
	// ends (metrics; see observe.go).
	Observer backup.JobObserver
	// NotificationTargets serves cairn's own notification targets
	// (internal/notify/targets); nil makes them unavailable.
	NotificationTargets backup.NotificationTargetService
	// Queue, when set, distributes backup, restore and copy jobs over the
	// nodes that share the catalog (internal/queue on PostgreSQL): a job
	// recorded here is handed to it, and the node whose queue worker
	// fetches it runs it through RunJob. nil runs every job in this
	// process (SQLite). See dispatch.go.
	Queue Dispatcher
	// TakeoverInterval is how often the leader gives the jobs of dead
	// nodes back to the queue, and how often a job waiting here looks
	// for changes other nodes made (its resource freed, a stop); default
	// 5s. Used only with a Queue.
	TakeoverInterval time.Duration
	// Cluster is what this process knows of the nodes sharing its
	// catalog: whether it is the leader, which nodes are dead. nil is a
	// server alone on its catalog (backup.SingleNode, always the leader).
	Cluster backup.Cluster
}

// Defaults of Config.
const (
	DefaultSchedulerInterval   = 10 * time.Second
	DefaultLifecycleInterval   = time.Minute
	DefaultSweepInterval       = 6 * time.Hour
	DefaultOrphanMinAge        = 24 * time.Hour
	DefaultStartupVaultTimeout = 10 * time.Second
	DefaultTakeoverInterval    = 5 * time.Second
)

// Service implements backup.Service.
type Service struct {
	cfg Config
	log *slog.Logger

	slots chan struct{}

	mu        sync.Mutex
	stores    map[string]blob.Store // by vault name
	running   map[string]*activeJob // by job id (backup and restore)
	claims    map[string]*claim     // by job id: jobs RunJob claimed (dispatch.go)
	tableARNs map[string]string     // by source name and table name
	// closed is set when Shutdown begins: no new job runs in this process.
	closed  bool
	started bool

	// startMu makes StartBackupJob's check for an active job of the
	// resource and its insert one step.
	startMu sync.Mutex

	// vaultMu makes CreateVault's overlap check and its insert one step.
	vaultMu sync.Mutex
	// sweepMu guards lastSweep, when the last sweep of incomplete points
	// started.
	sweepMu   sync.Mutex
	lastSweep time.Time

	// wakeCh is closed (and replaced) whenever a waiting job may be able
	// to go on: a job ended, or the scheduler ran.
	wakeMu sync.Mutex
	wakeCh chan struct{}

	// leftover holds the IDs of partial recovery points Recover could not
	// remove (their vault was unreachable); the background retry removes
	// them. Guarded by mu.
	leftover map[string]bool
	// recovering is set while Recover runs: it bounds and gates the
	// opening of vault stores. Guarded by mu.
	recovering *recovery

	wg sync.WaitGroup
	// ctx is the parent of every job's context; Shutdown cancels it with
	// errShutdown once the grace period is over.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// drain ends when Shutdown begins: background loops stop and waiting
	// jobs stay queued.
	drain     context.Context
	stopDrain context.CancelFunc
}

var _ backup.Service = (*Service)(nil)

// New returns a Service; call Recover, then use it; Close stops it.
func New(cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.OpenStore == nil {
		return nil, fmt.Errorf("runner: Catalog and OpenStore are required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = 4
	}
	if cfg.ProgressInterval <= 0 {
		cfg.ProgressInterval = time.Second
	}
	if cfg.Compression == "" {
		cfg.Compression = "zstd"
	}
	if cfg.SchedulerInterval <= 0 {
		cfg.SchedulerInterval = DefaultSchedulerInterval
	}
	if cfg.LifecycleInterval <= 0 {
		cfg.LifecycleInterval = DefaultLifecycleInterval
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.OrphanMinAge <= 0 {
		cfg.OrphanMinAge = DefaultOrphanMinAge
	}
	if cfg.StartupVaultTimeout <= 0 {
		cfg.StartupVaultTimeout = DefaultStartupVaultTimeout
	}
	if cfg.TakeoverInterval <= 0 {
		cfg.TakeoverInterval = DefaultTakeoverInterval
	}
	if cfg.Cluster == nil {
		cfg.Cluster = backup.SingleNode{ID: newID()}
	}
	if cfg.Observer != nil {
		clk := cfg.Clock
		cfg.Catalog = newObservedCatalog(cfg.Catalog, cfg.Observer, func() time.Time { return clk.Now().UTC() })
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	drain, stopDrain := context.WithCancel(ctx)
	return &Service{
		cfg: cfg, log: cfg.Logger,
		slots:     make(chan struct{}, cfg.MaxJobs),
		stores:    map[string]blob.Store{},
		running:   map[string]*activeJob{},
		claims:    map[string]*claim{},
		tableARNs: map[string]string{},
		leftover:  map[string]bool{},
		ctx:       ctx, cancel: cancel,
		drain: drain, stopDrain: stopDrain,
	}, nil
}

// Cluster is the Config's Cluster (backup.SingleNode when none was given).
func (s *Service) Cluster() backup.Cluster { return s.cfg.Cluster }

// Wait blocks until no job and no background sweep is running; for tests
// that do not call Start.
func (s *Service) Wait() { s.wg.Wait() }

// wakeup returns a channel that is closed at the next kick.
func (s *Service) wakeup() <-chan struct{} {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.wakeCh == nil {
		s.wakeCh = make(chan struct{})
	}
	return s.wakeCh
}

// kick wakes every job waiting for its turn or its retry time.
func (s *Service) kick() {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.wakeCh != nil {
		close(s.wakeCh)
		s.wakeCh = nil
	}
}

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

func newID() string { return strings.ToUpper(uuid.NewString()) }

func (s *Service) source(arn string) (*Source, backup.ARN, string, error) {
	a, table, err := backup.ParseTableARN(arn)
	if err != nil {
		return nil, a, "", err
	}
	for _, src := range s.cfg.Sources {
		if src.matches(a) {
			return src, a, table, nil
		}
	}
	return nil, a, "", backup.Errorf(backup.ErrInvalidParameter,
		"no DynamoDB source serves region %q and account %q of %s; add one to the config file", a.Region, a.AccountID, arn)
}

func (s *Service) sourceByName(name string) (*Source, error) {
	for _, src := range s.cfg.Sources {
		if src.Name == name {
			return src, nil
		}
	}
	names := make([]string, 0, len(s.cfg.Sources))
	for _, src := range s.cfg.Sources {
		names = append(names, src.Name)
	}
	return nil, backup.Errorf(backup.ErrInvalidParameter, "unknown source %q; configured sources: %s", name, strings.Join(names, ", "))
}

// store returns the blob store of a vault, opening it once.
func (s *Service) store(ctx context.Context, v *backup.Vault) (blob.Store, error) {
	s.mu.Lock()
	st, ok := s.stores[v.Name]
	rec := s.recovering
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	if rec != nil {
		// During Recover a vault that could not be reached is not tried
		// again, and opening one is bounded.
		if err := rec.skipped(v.Name); err != nil {
			return nil, err
		}
		var cancel context.CancelFunc
		ctx, cancel = rec.bound(ctx, v.Name)
		defer cancel()
	}
	st, err := s.cfg.OpenStore(ctx, v.Storage)
	if err != nil {
		return nil, fmt.Errorf("open storage of vault %s (%s): %w", v.Name, v.Storage, err)
	}
	s.mu.Lock()
	s.stores[v.Name] = st
	s.mu.Unlock()
	return st, nil
}

func (s *Service) defaultStorage(vault string) backup.VaultStorage {
	return backup.VaultStorage{Kind: backup.StorageFile, Path: filepath.Join(s.cfg.DataDir, "vaults", vault)}
}

// activeJob is the in-memory state of a job this process runs. Its mutex
// orders progress updates and StopBackupJob so neither overwrites the other.
type activeJob struct {
	mu      sync.Mutex
	backup  *backup.BackupJob
	restore *backup.RestoreJob
	cancel  context.CancelCauseFunc
	// notBefore is when a backup job waiting to retry may start again.
	notBefore time.Time
	// completionExpired is set when the scheduler stops a running backup
	// job at the end of its completion window.
	completionExpired bool
	// resuming is set for a backup job that started before and has
	// checkpoints: its start window no longer applies.
	resuming bool
}

// errStopped is the cancel cause of a job stopped by StopBackupJob.
var errStopped = fmt.Errorf("stopped by StopBackupJob")

// launch runs a job in a tracked goroutine with its own cancellable
// context. While the service shuts down it does not run it: the job stays
// queued in the catalog (CREATED or PENDING) and Recover queues it again at
// the next start.
func (s *Service) launch(id string, aj *activeJob, run func(ctx context.Context)) error {
	s.start(id, aj, run)
	return nil
}

// start is launch; it reports whether the job runs.
func (s *Service) start(id string, aj *activeJob, run func(ctx context.Context)) bool {
	ctx, cancel := context.WithCancelCause(s.ctx)
	aj.cancel = cancel
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel(nil)
		s.log.Info("server is stopping: the job stays queued and runs after the next start", "job", id)
		return false
	}
	s.running[id] = aj
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.untrack(id)
		defer cancel(nil)
		run(ctx)
	}()
	return true
}

func (s *Service) untrack(id string) {
	s.mu.Lock()
	delete(s.running, id)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Service) active(id string) *activeJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[id]
}

// acquire waits for a job slot. Once Shutdown has begun it gives none:
// it returns errDraining and the job stays queued.
func (s *Service) acquire(ctx context.Context) error {
	if s.drain.Err() != nil {
		return errDraining
	}
	select {
	case s.slots <- struct{}{}:
		if s.drain.Err() != nil {
			<-s.slots
			return errDraining
		}
		return nil
	case <-ctx.Done():
		if errors.Is(context.Cause(ctx), errShutdown) {
			return errDraining
		}
		return context.Cause(ctx)
	case <-s.drain.Done():
		return errDraining
	}
}

func (s *Service) release() { <-s.slots }

// causeMessage turns a job's error into a StatusMessage for API users.
func causeMessage(err error) string {
	msg := err.Error()
	if len(msg) > 1000 {
		msg = msg[:1000] + "..."
	}
	return msg
}
