package backup

import (
	"context"
	"time"
)

// Node is one cairn server process among those that share a catalog. A
// SQLite catalog has exactly one; a PostgreSQL catalog may have several.
type Node struct {
	// ID names the node for as long as its process lives; a restarted
	// process is a new node.
	ID string
	// Address is the API address the node listens on, as configured.
	Address string
	// MaxJobs is the node's own job slots (max_jobs is per node).
	MaxJobs int
	// Started and Heartbeat are when the node joined and when it last
	// said it is alive.
	Started   time.Time
	Heartbeat time.Time
	// Leader is set on the node that runs the cluster's singletons (the
	// scheduler, the lifecycle worker, governance, the notification
	// sender, report plans).
	Leader bool
	// Alive is false once the node is known to be gone: its process
	// died (its PostgreSQL session ended) or its heartbeat is older than
	// the lease. Its jobs are then taken over by another node.
	Alive bool
	// Running is the IDs of the jobs the node runs now.
	Running []string
}

// ClusterStatus is what `cairn cluster status` and GET /cairn/cluster show.
type ClusterStatus struct {
	// Catalog is "sqlite" or "postgres".
	Catalog string
	// Self is the ID of the node that answered.
	Self string
	// Leader is the ID of the leader, empty while there is none.
	Leader string
	Nodes  []*Node
}

// Cluster is what the runner and the background workers know of the
// nodes that share their catalog. A single-node server's Cluster is this
// process alone: it is always the leader and no node is ever dead.
type Cluster interface {
	// NodeID is this process's node.
	NodeID() string
	// IsLeader says whether this node runs the cluster's singletons now.
	// A pass that began as leader may finish after leadership moved;
	// every singleton pass must therefore stay safe when repeated or run
	// twice (the catalog's unique keys make it so).
	IsLeader() bool
	// DeadNodes returns the IDs of nodes known to be gone whose jobs may
	// be taken over. It never names a live node.
	DeadNodes(ctx context.Context) ([]string, error)
	// Status lists the nodes, their heartbeats, the leader and their jobs.
	Status(ctx context.Context) (*ClusterStatus, error)
}

// SingleNode is the Cluster of a server alone on its catalog (SQLite, or
// tests): always the leader, never a dead node.
type SingleNode struct{ ID string }

// NodeID implements Cluster.
func (s SingleNode) NodeID() string { return s.ID }

// IsLeader implements Cluster.
func (SingleNode) IsLeader() bool { return true }

// DeadNodes implements Cluster.
func (SingleNode) DeadNodes(context.Context) ([]string, error) { return nil, nil }

// Status implements Cluster; it knows nothing of the catalog or the jobs,
// which the runner adds.
func (s SingleNode) Status(context.Context) (*ClusterStatus, error) {
	return &ClusterStatus{Catalog: "sqlite", Self: s.ID, Leader: s.ID,
		Nodes: []*Node{{ID: s.ID, Leader: true, Alive: true}}}, nil
}

// NodeStore keeps the nodes that share a catalog: who they are and when
// each last said it is alive. Whether a node is alive beyond its heartbeat
// (a PostgreSQL session that holds its lock) is for the Cluster to tell;
// the store keeps what the nodes write.
type NodeStore interface {
	// RegisterNode stores n's ID, Address, MaxJobs, Started and
	// Heartbeat, replacing what a node of that ID stored before (a node
	// registers again after it lost its connection). It fails with
	// ErrMissingParameter without ID, Started or Heartbeat.
	RegisterNode(ctx context.Context, n *Node) error
	// HeartbeatNode moves the node's Heartbeat forward to at (a later
	// heartbeat is kept). It fails with ErrNotFound if no node of that ID
	// is stored (it was removed as dead: register again).
	HeartbeatNode(ctx context.Context, id string, at time.Time) error
	// ListNodes returns every stored node, by Started then ID; Leader,
	// Alive and Running are the Cluster's to fill.
	ListNodes(ctx context.Context) ([]*Node, error)
	// DeleteNode removes the node; ErrNotFound if there is none.
	DeleteNode(ctx context.Context, id string) error
}

// ClusterService is what the API (GET /cairn/cluster) and `cairn cluster
// status` show of the nodes.
type ClusterService interface {
	// ClusterStatus lists the nodes that share the catalog, their
	// heartbeats, the leader and the jobs the answering node runs. It
	// fails with ErrUnavailable while the node cannot reach the catalog.
	ClusterStatus(ctx context.Context) (*ClusterStatus, error)
}
