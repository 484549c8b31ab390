package runner

import (
	"context"
	"fmt"
	"slices"

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
// the jobs this node runs (the backup and restore jobs of this process;
// other nodes' jobs are theirs to tell).
func (s *Service) ClusterStatus(ctx context.Context) (*backup.ClusterStatus, error) {
	st, err := s.cfg.Cluster.Status(ctx)
	if err != nil {
		return nil, backup.Errorf(backup.ErrUnavailable, "the cluster's status cannot be read now: %v", err)
	}
	s.mu.Lock()
	running := make([]string, 0, len(s.running))
	for id := range s.running {
		running = append(running, id)
	}
	s.mu.Unlock()
	slices.Sort(running)
	for _, n := range st.Nodes {
		if n.ID != st.Self {
			continue
		}
		n.Running = running
		if n.MaxJobs == 0 {
			n.MaxJobs = s.cfg.MaxJobs
		}
	}
	return st, nil
}
