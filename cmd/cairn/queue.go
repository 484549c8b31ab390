package main

import (
	"context"
	"time"

	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/queue"
	"github.com/cairn-backup/cairn/internal/runner"
)

// openQueue opens the job queue when the catalog is PostgreSQL: River's
// tables in the catalog's database, this node's River client with
// max_jobs workers. On SQLite there is none and jobs run where they are
// recorded.
func (m *Main) openQueue(ctx context.Context, node string) (runner.Dispatcher, error) {
	pc, ok := m.catalog.(*postgres.Catalog)
	if !ok {
		return nil, nil
	}
	maxJobs := m.Config.MaxJobs
	if maxJobs <= 0 {
		maxJobs = 4 // the runner's default
	}
	q, err := queue.Open(ctx, pc.Pool(), queue.Config{NodeID: node, MaxJobs: maxJobs, Logger: m.Logger})
	if err != nil {
		return nil, err
	}
	m.queue = q
	return q, nil
}

// startQueue starts working the queue's jobs, once the runner has
// recovered and started.
func (m *Main) startQueue(ctx context.Context) error {
	if m.queue == nil {
		return nil
	}
	m.queue.Bind(m.Service)
	return m.queue.Start(ctx)
}

// stopQueue stops fetching jobs and waits for the workers, whose jobs the
// runner's Shutdown has ended or given back.
func (m *Main) stopQueue() error {
	if m.queue == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := m.queue.Stop(ctx)
	m.queue = nil
	return err
}
