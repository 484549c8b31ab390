package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Alone reports whether this node leads and no other node shares the
// catalog alive (others names the live ones besides this node): what the
// catalog lists as active is then no live node's, and may be recovered.
func (s *Service) Alone(ctx context.Context) (bool, []string, error) { return s.alone(ctx) }

func (s *Service) alone(ctx context.Context) (bool, []string, error) {
	if _, single := s.cfg.Cluster.(backup.SingleNode); single {
		return true, nil, nil
	}
	st, err := s.cfg.Cluster.Status(ctx)
	if err != nil {
		return false, nil, fmt.Errorf("the cluster's nodes: %w", err)
	}
	var others []string
	for _, n := range st.Nodes {
		if n.Alive && n.ID != s.cfg.Cluster.NodeID() {
			others = append(others, n.ID)
		}
	}
	return s.cfg.Cluster.IsLeader() && len(others) == 0, others, nil
}

// ClusterStatus implements backup.ClusterService: the Cluster's nodes, with
// the jobs each runs. With a queue those are the jobs the catalog records
// each node as running (their owner); without one, this node is alone and
// its jobs are those of this process.
func (s *Service) ClusterStatus(ctx context.Context) (*backup.ClusterStatus, error) {
	st, err := s.cfg.Cluster.Status(ctx)
	if err != nil {
		return nil, backup.Errorf(backup.ErrUnavailable, "the cluster's status cannot be read now: %v", err)
	}
	byNode := map[string][]string{}
	if s.cfg.Queue != nil {
		ids := make([]string, 0, len(st.Nodes))
		for _, n := range st.Nodes {
			ids = append(ids, n.ID)
		}
		owned, err := s.cfg.Catalog.OwnedJobs(ctx, ids)
		if err != nil {
			return nil, backup.Errorf(backup.ErrUnavailable, "the jobs of the cluster's nodes cannot be read now: %v", err)
		}
		for _, j := range owned {
			byNode[j.Owner] = append(byNode[j.Owner], j.ID)
		}
	} else {
		s.mu.Lock()
		for id := range s.running {
			byNode[st.Self] = append(byNode[st.Self], id)
		}
		s.mu.Unlock()
	}
	for _, n := range st.Nodes {
		n.Running = byNode[n.ID]
		if n.Running == nil {
			n.Running = []string{}
		}
		slices.Sort(n.Running)
		if n.ID == st.Self && n.MaxJobs == 0 {
			n.MaxJobs = s.cfg.MaxJobs
		}
	}
	return st, nil
}

// untilRecorded runs write until the catalog takes it: while the catalog
// cannot be reached (PostgreSQL restarting, a node cut off from it) it
// tries again with backoff, so that the end of a job is recorded once the
// catalog answers instead of the job staying RUNNING. An answer of the
// catalog (a domain error) ends it, as does the process's hard stop.
func (s *Service) untilRecorded(what string, log *slog.Logger, write func(context.Context) error) error {
	delay := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := write(ctx)
		cancel()
		var de *backup.Error
		if err == nil || errors.As(err, &de) {
			return err
		}
		log.Warn("the catalog cannot be written now; trying again until it answers", "what", what, "err", err, "retry_in", delay)
		select {
		case <-s.ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
