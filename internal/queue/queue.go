// Package queue distributes cairn's backup, restore and copy jobs over the
// nodes that share a PostgreSQL catalog, through River
// (github.com/riverqueue/river), a job queue kept in the same database.
//
// The catalog stays the record of every job; the queue only says which
// node runs one. A node that records a job (an API call, the scheduler, a
// rule's copy, a takeover) inserts one River job for it, unique per cairn
// job ID and attempt, so that handing a job out twice adds nothing. The
// River worker of the node that fetches it hands it to the runner
// (Runner.RunJob), which claims the job in the catalog with a
// compare-and-set and runs it in that process; the River job ends when
// the cairn job ends, or is snoozed for another node to fetch when this
// node gave it back (it was stopping). A stale River job, for a cairn job
// another node runs or that ended, does nothing.
//
// River's MaxWorkers is the node's max_jobs. River's job timeout is off
// and its rescuer waits a year: a long backup is never taken from its
// node by time. A node that dies is seen through the cluster's membership
// (backup.Cluster.DeadNodes), and the leader's takeover pass hands its
// jobs back with a new attempt (see internal/runner/dispatch.go). The dead
// node's own River job stays "running" in River's table until the rescuer
// hands it out a year later, when RunJob finds nothing left to do.
//
// River's tables (river_job, river_leader, river_queue, ...) live in the
// catalog's database, beside cairn's; Open brings them up to date with
// rivermigrate, under an advisory lock so that nodes starting together
// migrate once.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Runner runs a job this node's worker fetched (internal/runner's
// Service).
type Runner interface {
	// RunJob claims the job and runs it here, returning when it has ended
	// or left this node; again asks for it to be handed out again.
	RunJob(ctx context.Context, kind backup.JobKind, id string) (again bool, err error)
}

// jobArgs is a River job: one attempt of one cairn job.
type jobArgs struct {
	JobKind backup.JobKind `json:"kind"`
	ID      string         `json:"id" river:"unique"`
	Attempt int            `json:"attempt" river:"unique"`
}

// Kind implements river.JobArgs.
func (jobArgs) Kind() string { return "cairn_job" }

// RetryDelay is how long a job this node gave back waits before a node
// fetches it again.
const RetryDelay = time.Second

// worker hands River jobs to the runner.
type worker struct {
	river.WorkerDefaults[jobArgs]
	q *Queue
}

func (w *worker) Work(ctx context.Context, job *river.Job[jobArgs]) error {
	r := w.q.runner
	if r == nil {
		return river.JobSnooze(RetryDelay)
	}
	again, err := r.RunJob(ctx, job.Args.JobKind, job.Args.ID)
	if err != nil {
		w.q.log.Error("queued job failed to run; the queue retries it", "job", job.Args.ID, "kind", string(job.Args.JobKind), "err", err)
		return err
	}
	if again {
		return river.JobSnooze(RetryDelay)
	}
	return nil
}

// Config configures a Queue.
type Config struct {
	// NodeID names this node's River client (Cluster.NodeID).
	NodeID string
	// MaxJobs is how many jobs this node runs at once (max_jobs).
	MaxJobs int
	// PollInterval is how often the worker looks for jobs besides River's
	// notifications; default 1s.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Queue is River's client on one node.
type Queue struct {
	client *river.Client[pgx.Tx]
	runner Runner
	log    *slog.Logger
}

// migrateLock is the advisory lock key under which River's migrations run
// ("river" in ASCII).
const migrateLock = 0x7269766572

// Open brings River's tables in pool's database up to date and returns a
// queue that inserts and, once Started, works jobs. Bind a Runner before
// Start.
func Open(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	if cfg.NodeID == "" || cfg.MaxJobs <= 0 {
		return nil, fmt.Errorf("queue: NodeID and MaxJobs are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	driver := riverpgxv5.New(pool)
	if err := migrate(ctx, pool, driver); err != nil {
		return nil, err
	}
	q := &Queue{log: cfg.Logger}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{q: q}); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	client, err := river.NewClient(driver, &river.Config{
		ID:                   riverID(cfg.NodeID),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.MaxJobs}},
		Workers:              workers,
		JobTimeout:           -1,
		RescueStuckJobsAfter: 365 * 24 * time.Hour,
		FetchPollInterval:    cfg.PollInterval,
		MaxAttempts:          100,
		Logger:               cfg.Logger.With("component", "river"),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.client = client
	return q, nil
}

// riverID is the River client ID of a node. River wants it short and
// free of spaces; node IDs are.
func riverID(node string) string { return "cairn-" + node }

func migrate(ctx context.Context, pool *pgxpool.Pool, driver *riverpgxv5.Driver) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	// River's migrations cannot run in one transaction (one adds an enum
	// value a later one uses), so a session lock on a connection of its
	// own makes nodes that start together migrate one after the other.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateLock)); err != nil {
		return fmt.Errorf("queue: migrate: lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateLock)); err != nil {
			conn.Conn().Close(context.Background()) // a closed session frees its locks
		}
	}()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("queue: migrate River's tables: %w", err)
	}
	return nil
}

// Bind sets the runner this node's worker hands jobs to; call it before
// Start.
func (q *Queue) Bind(r Runner) { q.runner = r }

// Start starts working jobs.
func (q *Queue) Start(ctx context.Context) error {
	if q.runner == nil {
		return errors.New("queue: Start before Bind")
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the workers to return; call it
// after the runner's Shutdown, which ends or gives back the jobs they run.
func (q *Queue) Stop(ctx context.Context) error {
	if err := q.client.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("queue: stop: %w", err)
	}
	return nil
}

// Dispatch implements runner.Dispatcher: it inserts one River job for
// attempt of a cairn job, or nothing if it exists.
func (q *Queue) Dispatch(ctx context.Context, kind backup.JobKind, id string, attempt int) error {
	_, err := q.client.Insert(ctx, jobArgs{JobKind: kind, ID: id, Attempt: attempt}, &river.InsertOpts{
		UniqueOpts: river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("queue: insert %s job %s: %w", kind, id, err)
	}
	return nil
}
