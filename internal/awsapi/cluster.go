package awsapi

import "slices"

// ClusterOutput answers GET /cairn/cluster: the cairn server processes
// (nodes) that share the catalog, as the answering node sees them
// (docs/cluster.md). AWS Backup has no such operation.
type ClusterOutput struct {
	// Catalog is "sqlite" (one node) or "postgres".
	Catalog string `json:"Catalog"`
	// Self is the answering node's ID; Leader the leader's, empty while
	// there is none.
	Self   string        `json:"Self"`
	Leader string        `json:"Leader,omitempty"`
	Nodes  []ClusterNode `json:"Nodes"`
}

// ClusterNode is one node (backup.Node).
type ClusterNode struct {
	NodeId        string   `json:"NodeId"`
	Address       string   `json:"Address,omitempty"`
	MaxJobs       int      `json:"MaxJobs"`
	StartTime     Time     `json:"StartTime,omitzero"`
	LastHeartbeat Time     `json:"LastHeartbeat,omitzero"`
	Leader        bool     `json:"Leader"`
	Alive         bool     `json:"Alive"`
	RunningJobs   []string `json:"RunningJobs"`
}

func (s *Server) getCluster(q *request) (any, error) {
	st, err := s.svc.ClusterStatus(q.ctx())
	if err != nil {
		return nil, err
	}
	out := &ClusterOutput{Catalog: st.Catalog, Self: st.Self, Leader: st.Leader, Nodes: make([]ClusterNode, 0, len(st.Nodes))}
	for _, n := range st.Nodes {
		out.Nodes = append(out.Nodes, ClusterNode{NodeId: n.ID, Address: n.Address, MaxJobs: n.MaxJobs,
			StartTime: epoch(n.Started), LastHeartbeat: epoch(n.Heartbeat), Leader: n.Leader, Alive: n.Alive,
			RunningJobs: append([]string{}, slices.Clip(n.Running)...)})
	}
	return out, nil
}
