package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// clusterConfig is the config of a node in these tests: the scheduler
// looks every second, heartbeats are frequent and the lease short, so
// that the tests do not wait long (nothing below depends on them being
// met in time).
const clusterConfig = "scheduler_interval: 1s\ncluster:\n  heartbeat_interval: 200ms\n  lease: 3s\n"

// startNode starts a `cairn server` process on the PostgreSQL catalog url
// with a data dir of its own; nodes after the first share the first one's
// key pair (first is its data dir; "" for the first node).
func startNode(t *testing.T, base, name, url, ddbEndpoint, first string) (*proc, string) {
	t.Helper()
	return startNodeConfig(t, base, name, url, ddbEndpoint, first, "")
}

// startNodeConfig is startNode with more lines of config.
func startNodeConfig(t *testing.T, base, name, url, ddbEndpoint, first, extra string) (*proc, string) {
	t.Helper()
	dir := filepath.Join(base, name)
	if first != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(first, credentialsFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, credentialsFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The default source is dynalite too: a source that cannot be listed
	// keeps a rule occurrence due.
	p := startProcEnv(t, dir, ddbEndpoint, clusterConfig+extra, "CAIRN_CATALOG="+url, "AWS_ENDPOINT_URL_DYNAMODB="+ddbEndpoint,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := os.ReadFile(p.log)
			t.Logf("node %s's log:\n%s", name, out)
		}
	})
	return p, dir
}

// clusterStatus runs `cairn cluster status --output json` against the
// node at addr.
func clusterStatus(t *testing.T, dataDir, addr string) (*awsapi.ClusterOutput, error) {
	t.Helper()
	out, code := runCairn(t, "cluster", "status", "--output", "json", "--endpoint", "http://"+addr, "--data-dir", dataDir)
	if code != 0 {
		return nil, fmt.Errorf("cairn cluster status: exit %d: %s", code, out)
	}
	var st awsapi.ClusterOutput
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return nil, fmt.Errorf("cairn cluster status --output json: %v\n%s", err, out)
	}
	return &st, nil
}

// waitCond waits until ok holds; the bound only guards against a hang.
func waitCond(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

// TestKillLeaderWhileRuleDue: two `cairn server` processes on one
// PostgreSQL catalog, a plan rule due every minute. The leader is killed
// with SIGKILL right when an occurrence falls due; the other node becomes
// the leader and the occurrence's job is created exactly once, as are the
// next one's. Both nodes serve the API; `cairn cluster status` shows them.
func TestKillLeaderWhileRuleDue(t *testing.T) {
	pg := testbed.PostgresServer(t)
	url := pg.NewDatabase(t)
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 50)
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
	if _, err := db.TagResource(context.Background(), &dynamodb.TagResourceInput{ResourceArn: aws.String(arn),
		Tags: []ddbtypes.Tag{{Key: aws.String("backup"), Value: aws.String("minutely")}}}); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	a, dirA := startNode(t, base, "a", url, dyn.Endpoint, "")
	b, dirB := startNode(t, base, "b", url, dyn.Endpoint, dirA)
	ca, err := procClient(dirA, a.addr)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := procClient(dirB, b.addr)
	if err != nil {
		t.Fatal(err)
	}

	// The status, through either node: two live nodes, A leads.
	st, err := clusterStatus(t, dirB, b.addr)
	if err != nil {
		t.Fatal(err)
	}
	if st.Catalog != "postgres" || len(st.Nodes) != 2 || st.Leader == "" || st.Leader == st.Self {
		t.Fatalf("status through B: %+v", st)
	}
	leaderA := st.Leader
	for _, n := range st.Nodes {
		if !n.Alive || n.Leader != (n.NodeId == leaderA) || n.Address == "" {
			t.Fatalf("node %+v", n)
		}
	}
	table, code := runCairn(t, "cluster", "status", "--endpoint", "http://"+a.addr, "--data-dir", dirA)
	if code != 0 || !strings.Contains(table, "alive") || !strings.Contains(table, "yes") || !strings.Contains(table, "postgres catalog, 2 node(s)") {
		t.Fatalf("cairn cluster status: exit %d\n%s", code, table)
	}
	for _, line := range strings.Split(table, "\n") {
		if len(line) > 100 {
			t.Errorf("a line of %d columns: %q", len(line), line)
		}
	}

	// A plan made through B, a rule due every minute.
	plan, err := cb.CreateBackupPlan(context.Background(), &bk.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{
		BackupPlanName: aws.String("minutely"),
		Rules: []bktypes.BackupRuleInput{{RuleName: aws.String("every-minute"), TargetBackupVaultName: aws.String("Default"),
			ScheduleExpression: aws.String("cron(* * ? * * *)"), StartWindowMinutes: aws.Int64(60)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.CreateBackupSelection(context.Background(), &bk.CreateBackupSelectionInput{BackupPlanId: plan.BackupPlanId,
		BackupSelection: &bktypes.BackupSelection{SelectionName: aws.String("tagged"), IamRoleArn: aws.String(role),
			ListOfTags: []bktypes.Condition{{ConditionType: bktypes.ConditionTypeStringequals,
				ConditionKey: aws.String("backup"), ConditionValue: aws.String("minutely")}}}}); err != nil {
		t.Fatal(err)
	}

	// Kill the leader the moment the next occurrence falls due.
	due := time.Now().Truncate(time.Minute).Add(time.Minute)
	time.Sleep(time.Until(due))
	a.kill(t)

	// B leads, at once for the status (A's lock is free).
	waitCond(t, "B leads", func() bool {
		st, err := clusterStatus(t, dirB, b.addr)
		return err == nil && st.Leader == st.Self
	})
	st, _ = clusterStatus(t, dirB, b.addr)
	for _, n := range st.Nodes {
		if n.NodeId == leaderA && n.Alive {
			t.Fatalf("the killed leader is alive in the status: %+v", n)
		}
	}
	cat, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	jobsAt := func() map[int64]int { // by scheduled time, in Unix seconds
		jobs, _, err := cat.ListBackupJobs(context.Background(), backup.BackupJobFilter{Page: backup.Page{MaxResults: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		n := map[int64]int{}
		for _, j := range jobs {
			if j.CreatedBy != nil && j.CreatedBy.BackupPlanID == aws.ToString(plan.BackupPlanId) {
				n[j.ScheduledTime.Unix()]++
			}
		}
		return n
	}
	// The occurrence due at the kill, and the next one, made by B.
	next := due.Add(time.Minute)
	waitCond(t, "the next occurrence's job", func() bool { return jobsAt()[next.Unix()] > 0 })
	got := jobsAt()
	for at, n := range got {
		if n != 1 {
			t.Errorf("occurrence %s: %d jobs, want exactly 1", time.Unix(at, 0).UTC().Format(time.TimeOnly), n)
		}
	}
	if got[due.Unix()] != 1 || got[next.Unix()] != 1 {
		t.Errorf("jobs by occurrence %v; want one at %s and one at %s", got, due, next)
	}
	// B's job of the second occurrence completes, unless it waits for the
	// first occurrence's job, if A had started that one before it died
	// (a dead node's jobs are taken over by the job queue, not here).
	jobs, _, err := cat.ListBackupJobs(context.Background(), backup.BackupJobFilter{Page: backup.Page{MaxResults: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	var first, second *backup.BackupJob
	for _, j := range jobs {
		switch {
		case j.ScheduledTime.Equal(due):
			first = j
		case j.ScheduledTime.Equal(next):
			second = j
		}
	}
	if first != nil && second != nil {
		if d := waitBackupJob(t, cb, first.ID); d.State != bktypes.BackupJobStateCompleted {
			t.Logf("the first occurrence's job, started by the killed leader, is %s", d.State)
		} else if d := waitBackupJob(t, cb, second.ID); d.State != bktypes.BackupJobStateCompleted {
			t.Errorf("the new leader's job: %s %s", d.State, aws.ToString(d.StatusMessage))
		}
	}
	if code := b.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("graceful stop of B: exit %d", code)
	}
}

// TestPostgresRestartUnderLoad: two nodes, a slow backup running on each,
// PostgreSQL stops. While it is down a node takes no new job (the API
// refuses it: the job cannot be recorded) and the nodes drop their
// sessions, the leader its leadership; once PostgreSQL is back they
// reconnect, one leads, both running backups complete with points whose
// restores match their tables, and new jobs run on either node.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := testbed.PostgresServer(t)
	url := pg.NewDatabase(t)
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	sums := map[string]string{}
	for _, name := range []string{"load1", "load2", "load3"} {
		createTable(t, db, name, ddbjson.TypeS, false)
		seedRandom(t, db, name, map[string]int{"load1": 8000, "load2": 8000, "load3": 500}[name])
		_, sums[name] = tableChecksum(t, db, name)
	}
	base := t.TempDir()
	a, dirA := startNode(t, base, "a", url, dyn.Endpoint, "")
	b, dirB := startNode(t, base, "b", url, dyn.Endpoint, dirA)
	ca, _ := procClient(dirA, a.addr)
	cb, _ := procClient(dirB, b.addr)
	j1 := startSlowBackup(t, ca, "load1", 25)
	j2 := startSlowBackup(t, cb, "load2", 25)

	pg.StopFast()
	a.waitLog(t, "lost the connection to PostgreSQL")
	b.waitLog(t, "lost the connection to PostgreSQL")
	if _, err := ca.StartBackupJob(context.Background(), &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/load3"), IamRoleArn: aws.String(role)}); err == nil {
		t.Fatal("a node cut off from its catalog took a new job")
	}
	if _, err := clusterStatus(t, dirB, b.addr); err == nil {
		t.Error("a node cut off from its catalog answered the cluster's status")
	}
	pg.Start(t)

	waitCond(t, "both nodes back, one leading", func() bool {
		sa, errA := clusterStatus(t, dirA, a.addr)
		sb, errB := clusterStatus(t, dirB, b.addr)
		if errA != nil || errB != nil || sa.Leader == "" || sa.Leader != sb.Leader {
			return false
		}
		for _, n := range sa.Nodes {
			if !n.Alive {
				return false
			}
		}
		return len(sa.Nodes) == 2
	})
	j3 := startBackup(t, cb, "load3")
	// The backups that ran across the outage end, recorded: COMPLETED
	// with a COMPLETED point that restores the table, or FAILED saying
	// why; none stays RUNNING. The one started since completes.
	for c, ids := range map[*bk.Client][]string{ca: {j1}, cb: {j2, j3}} {
		for _, id := range ids {
			j := waitBackupJob(t, c, id)
			if j.State != bktypes.BackupJobStateCompleted {
				if id == j3 || j.State != bktypes.BackupJobStateFailed {
					t.Fatalf("backup %s after the restart: %s %q", id, j.State, aws.ToString(j.StatusMessage))
				}
				t.Logf("backup %s across the outage: %s %q", id, j.State, aws.ToString(j.StatusMessage))
				continue
			}
			rp, err := c.DescribeRecoveryPoint(context.Background(), &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"),
				RecoveryPointArn: j.RecoveryPointArn})
			if err != nil || rp.Status != bktypes.RecoveryPointStatusCompleted {
				t.Fatalf("the point of the COMPLETED job %s: %v %v", id, rp.Status, err)
			}
			table := strings.TrimPrefix(aws.ToString(j.ResourceArn), "arn:aws:dynamodb:us-east-1:000000000000:table/")
			r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(j.RecoveryPointArn), table+"-restored", false))
			if r.Status != bktypes.RestoreJobStatusCompleted {
				t.Fatalf("restore of %s: %s %q", table, r.Status, aws.ToString(r.StatusMessage))
			}
			if _, got := tableChecksum(t, db, table+"-restored"); got != sums[table] {
				t.Fatalf("%s restored: checksum %s, want %s", table, got, sums[table])
			}
		}
	}
}
