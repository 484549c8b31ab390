package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

// The status table fits 100 columns, marks the node that answered, shows
// job counts for it only, and names every job with --wide.
func TestPrintCluster(t *testing.T) {
	now := time.Now()
	out := &awsapi.ClusterOutput{Catalog: "postgres", Self: "7C61A244-0EE4-4BF4-AE33-0928B3DE376B", Leader: "7C61A244-0EE4-4BF4-AE33-0928B3DE376B",
		Nodes: []awsapi.ClusterNode{
			{NodeId: "7C61A244-0EE4-4BF4-AE33-0928B3DE376B", Address: "10.0.0.1:7171", MaxJobs: 4, Leader: true, Alive: true,
				StartTime: awsapi.Time(now.Add(-time.Hour)), LastHeartbeat: awsapi.Time(now.Add(-time.Second)),
				RunningJobs: []string{"0E2D1C55-833D-430A-B1BB-6F5E178FB897", "A49D6351-166E-4259-BFAB-53FD39E7E327"}},
			{NodeId: "BCB6D575-D3C4-493B-8AF7-05D808E0BD08", Address: "a-rather-long-host-name.backup.internal.example.com:7171",
				MaxJobs: 8, Alive: false, StartTime: awsapi.Time(now.Add(-time.Hour)), LastHeartbeat: awsapi.Time(now.Add(-time.Minute))},
		}}
	for _, wide := range []bool{false, true} {
		var buf bytes.Buffer
		c := &cli{stdout: &buf}
		c.out.wide = wide
		if err := c.printCluster(out); err != nil {
			t.Fatal(err)
		}
		s := buf.String()
		t.Logf("wide=%v:\n%s", wide, s)
		for _, line := range strings.Split(s, "\n") {
			if !wide && len(line) > 100 {
				t.Errorf("a line of %d columns: %q", len(line), line)
			}
		}
		if !strings.Contains(s, "376B*") && !strings.Contains(s, "7C61A244*") || !strings.Contains(s, "dead") || !strings.Contains(s, "yes") ||
			!strings.Contains(s, "postgres catalog, 2 node(s), leader 7C61A244") {
			t.Errorf("table:\n%s", s)
		}
		if got := strings.Contains(s, "A49D6351-166E-4259-BFAB-53FD39E7E327"); got != wide {
			t.Errorf("wide=%v: jobs named %v:\n%s", wide, got, s)
		}
	}
}
