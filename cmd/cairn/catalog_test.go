package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// openMain opens a server on cfg (Listen 127.0.0.1:0) and returns it, or
// the error of Open.
func openMain(t *testing.T, cfg Config, clk clock.Clock) (*Main, error) {
	t.Helper()
	m := &Main{Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clk}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if err := m.Open(context.Background()); err != nil {
		return nil, err
	}
	t.Cleanup(func() { closeMain(t, m) })
	return m, nil
}

var closed sync.Map // of *Main: Close may be called once only

// closeMain closes m unless it was closed already.
func closeMain(t *testing.T, m *Main) {
	t.Helper()
	if _, done := closed.LoadOrStore(m, true); done {
		return
	}
	if err := m.Close(); err != nil {
		t.Errorf("close server: %v", err)
	}
}

// cairnRun runs the cairn command in-process and returns its output.
func cairnRun(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// allPoints returns every recovery point of the server's catalog by ID.
func allPoints(t *testing.T, m *Main) map[string]*backup.RecoveryPoint {
	t.Helper()
	pts, _, err := m.Service.ListRecoveryPoints(context.Background(), backup.RecoveryPointFilter{Page: backup.Page{MaxResults: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*backup.RecoveryPoint{}
	for _, p := range pts {
		out[p.ID] = p
	}
	return out
}

func allVaults(t *testing.T, m *Main) []*backup.Vault {
	t.Helper()
	vs, _, err := m.Service.ListVaults(context.Background(), backup.Page{MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if len(v.Tags) == 0 {
			v.Tags = nil // no tags, however the catalog says it
		}
	}
	return vs
}

func waitCopyJob(t *testing.T, c *bk.Client, id string) *bktypes.CopyJob {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, err := c.DescribeCopyJob(context.Background(), &bk.DescribeCopyJobInput{CopyJobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if s := out.CopyJob.State; s == bktypes.CopyJobStateCompleted || s == bktypes.CopyJobStateFailed {
			return out.CopyJob
		}
	}
	t.Fatalf("copy job %s did not end", id)
	return nil
}

// TestCatalogLostAndRebuilt loses the catalog of a server whose vaults (in
// the data dir, in another directory, on S3) hold points made by a plan, on
// demand and by a copy, some cold, with lifecycles and tags (13.3): the
// server refuses to start over them, deleted or truncated to 0 bytes, and
// says to rebuild; `cairn catalog rebuild` brings every vault and point back
// as it was (status, storage class, lifecycle, tags, creator, dates,
// sizes), and the rebuilt points restore.
func TestCatalogLostAndRebuilt(t *testing.T) {
	ctx := context.Background()
	dyn := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", "S", false)
	seedRandom(t, db, "orders", 300)
	wantN, wantSum := tableChecksum(t, db, "orders")
	tableARN := "arn:aws:dynamodb:us-east-1:000000000000:table/orders"

	dir := t.TempDir()
	elsewhere := filepath.Join(t.TempDir(), "elsewhere")
	cfgFile := filepath.Join(t.TempDir(), "cairn.yaml")
	if err := os.WriteFile(cfgFile, fmt.Appendf(nil, "s3:\n  access_key_id: %s\n  secret_access_key: %s\nvault_locations:\n  - storage: %s\n"+
		"storage:\n  allowed_paths: [%s]\n  s3_endpoints:\n    - name: versity\n      url: %s\n",
		s3.AccessKey, s3.SecretKey, elsewhere, filepath.Dir(elsewhere), s3.Endpoint), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.DataDir = "127.0.0.1:0", dir
	cfg.Sources = []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: dyn.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}}
	clk := clock.NewFake(time.Date(2026, 3, 2, 4, 59, 0, 0, time.UTC))
	m, err := openMain(t, cfg, clk)
	if err != nil {
		t.Fatal(err)
	}
	c := backupClient(m)

	// Vaults: Default in the data dir, one in another directory, one on S3.
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("elsewhere"),
		BackupVaultTags: map[string]string{"cairn:storage": elsewhere, "owner": "ops"}, CreatorRequestId: aws.String("req-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String("offsite"),
		BackupVaultTags: map[string]string{"cairn:storage": "s3://rebuild-bucket/cairn/vault", "cairn:s3-endpoint": s3.Endpoint, "site": "b"}}); err != nil {
		t.Fatal(err)
	}
	// A plan's point in Default, with tags and a lifecycle that sends it
	// cold after a day.
	plan, err := c.CreateBackupPlan(ctx, &bk.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{BackupPlanName: aws.String("daily"),
		Rules: []bktypes.BackupRuleInput{{RuleName: aws.String("at-five"), TargetBackupVaultName: aws.String("Default"),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), RecoveryPointTags: map[string]string{"made-by": "plan"},
			Lifecycle: &bktypes.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(1), DeleteAfterDays: aws.Int64(91)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBackupSelection(ctx, &bk.CreateBackupSelectionInput{BackupPlanId: plan.BackupPlanId,
		BackupSelection: &bktypes.BackupSelection{SelectionName: aws.String("orders"), IamRoleArn: aws.String(role), Resources: []string{tableARN}}}); err != nil {
		t.Fatal(err)
	}
	clk.Set(time.Date(2026, 3, 2, 5, 0, 30, 0, time.UTC))
	if err := m.Service.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{})
	if err != nil || len(jobs.BackupJobs) != 1 {
		t.Fatalf("scheduled jobs: %v, %v", jobs, err)
	}
	planJob := waitBackupJob(t, c, aws.ToString(jobs.BackupJobs[0].BackupJobId))
	if planJob.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("plan's job: %s %s", planJob.State, aws.ToString(planJob.StatusMessage))
	}
	// An on-demand point elsewhere whose lifecycle is changed afterwards.
	od, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("elsewhere"), ResourceArn: aws.String(tableARN),
		IamRoleArn: aws.String(role), Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(40)}, RecoveryPointTags: map[string]string{"team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	odJob := waitBackupJob(t, c, aws.ToString(od.BackupJobId))
	if _, err := c.UpdateRecoveryPointLifecycle(ctx, &bk.UpdateRecoveryPointLifecycleInput{BackupVaultName: aws.String("elsewhere"),
		RecoveryPointArn: odJob.RecoveryPointArn, Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(50)}}); err != nil {
		t.Fatal(err)
	}
	// Tags changed after the fact, on the point and on its vault.
	if _, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: odJob.RecoveryPointArn, Tags: map[string]string{"ticket": "42"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &bk.UntagResourceInput{ResourceArn: odJob.RecoveryPointArn, TagKeyList: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &bk.TagResourceInput{ResourceArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:elsewhere"),
		Tags: map[string]string{"tier": "gold"}}); err != nil {
		t.Fatal(err)
	}
	// A copy of the plan's point on S3.
	cp, err := c.StartCopyJob(ctx, &bk.StartCopyJobInput{RecoveryPointArn: planJob.RecoveryPointArn, SourceBackupVaultName: aws.String("Default"),
		DestinationBackupVaultArn: aws.String("arn:aws:backup:us-east-1:000000000000:backup-vault:offsite"), IamRoleArn: aws.String(role),
		Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(60)}})
	if err != nil {
		t.Fatal(err)
	}
	copyJob := waitCopyJob(t, c, aws.ToString(cp.CopyJobId))
	if copyJob.State != bktypes.CopyJobStateCompleted {
		t.Fatalf("copy: %s", aws.ToString(copyJob.StatusMessage))
	}
	// A day later the plan's point goes cold.
	clk.Advance(25 * time.Hour)
	if err := m.Service.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	before, vaultsBefore := allPoints(t, m), allVaults(t, m)
	if len(before) != 3 || before[pointID(aws.ToString(planJob.RecoveryPointArn))].StorageClass != backup.StorageCold ||
		!reflect.DeepEqual(before[pointID(aws.ToString(odJob.RecoveryPointArn))].Tags, map[string]string{"ticket": "42"}) {
		t.Fatalf("points before the catalog is lost: %v", before)
	}
	closeMain(t, m)

	catalog := filepath.Join(dir, catalogFile)
	for _, lose := range []struct {
		name string
		do   func() error
	}{
		{"deleted", func() error { return os.Remove(catalog) }},
		{"truncated to 0 bytes", func() error { return os.Truncate(catalog, 0) }},
	} {
		t.Run(lose.name, func(t *testing.T) {
			if err := lose.do(); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"-wal", "-shm"} {
				os.Remove(catalog + s)
			}
			statBefore, _ := os.Stat(catalog)
			_, err := openMain(t, cfg, clk)
			if err == nil || !strings.Contains(err.Error(), "cairn catalog rebuild --data-dir "+dir) || !strings.Contains(err.Error(), "holds recovery points") {
				t.Fatalf("server start on a lost catalog: %v; want a refusal that says to run cairn catalog rebuild", err)
			}
			if statAfter, _ := os.Stat(catalog); (statBefore == nil) != (statAfter == nil) || (statAfter != nil && statAfter.Size() != 0) {
				t.Fatalf("the refused start changed the catalog file: %v -> %v", statBefore, statAfter)
			}

			out, errb, err := cairnRun(t, "catalog", "rebuild", "--data-dir", dir, "--config", cfgFile,
				"--vault", "offsite=s3://rebuild-bucket/cairn/vault", "--s3-endpoint", s3.Endpoint)
			if err != nil {
				t.Fatalf("cairn catalog rebuild: %v\n%s\n%s", err, out, errb)
			}
			if !strings.Contains(out, "catalog rebuilt: 3 recovery points added") {
				t.Fatalf("cairn catalog rebuild said:\n%s\n%s", out, errb)
			}
			m, err := openMain(t, cfg, clk)
			if err != nil {
				t.Fatalf("server start after the rebuild: %v", err)
			}
			after := allPoints(t, m)
			for id, want := range before {
				if got := after[id]; !reflect.DeepEqual(got, want) {
					t.Errorf("point %s after the rebuild:\n got %+v\nwant %+v", id, got, want)
				}
			}
			if len(after) != len(before) {
				t.Errorf("%d points after the rebuild, want %d", len(after), len(before))
			}
			vaultsAfter := allVaults(t, m)
			sort.Slice(vaultsAfter, func(i, j int) bool { return vaultsAfter[i].Name < vaultsAfter[j].Name })
			for i := range max(len(vaultsAfter), len(vaultsBefore)) {
				if i >= len(vaultsAfter) || i >= len(vaultsBefore) || !reflect.DeepEqual(vaultsAfter[i], vaultsBefore[i]) {
					t.Errorf("vaults after the rebuild:\n got %s\nwant %s", showVaults(vaultsAfter), showVaults(vaultsBefore))
					break
				}
			}
			// The rebuilt points restore: the cold one and the S3 copy.
			c := backupClient(m)
			for i, arn := range []string{aws.ToString(planJob.RecoveryPointArn), aws.ToString(copyJob.DestinationRecoveryPointArn)} {
				target := fmt.Sprintf("orders-%d-%s", i, strings.ReplaceAll(lose.name, " ", "-"))
				r := waitRestoreJob(t, c, startRestore(t, c, arn, target, false))
				if r.Status != bktypes.RestoreJobStatusCompleted {
					t.Fatalf("restore of rebuilt point %s: %s %s", arn, r.Status, aws.ToString(r.StatusMessage))
				}
				if n, sum := tableChecksum(t, db, target); n != wantN || sum != wantSum {
					t.Fatalf("restored %s: %d items %s, want %d %s", target, n, sum, wantN, wantSum)
				}
			}
			closeMain(t, m)
		})
	}
}

func showVaults(vs []*backup.Vault) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n\t%+v %#v", *v, v.Storage)
	}
	return b.String()
}

// TestCatalogDamagedRebuilt: a half-truncated catalog and one with flipped
// bytes are moved aside (kept as they were) by `cairn catalog rebuild`,
// which makes a new catalog holding every point as it was (13.3).
func TestCatalogDamagedRebuilt(t *testing.T) {
	ctx := context.Background()
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "damaged", "S", false)
	seedRandom(t, db, "damaged", 200)
	dir := t.TempDir()
	cfg := Config{Listen: "127.0.0.1:0", DataDir: dir,
		Sources: []SourceConfig{{Name: "local", Region: "us-east-1", Endpoint: dyn.Endpoint, AccessKeyID: "test", SecretAccessKey: "test"}}}
	m, err := openMain(t, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := backupClient(m)
	for i := range 2 {
		out, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
			ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/damaged"), IamRoleArn: aws.String(role),
			Lifecycle: &bktypes.Lifecycle{DeleteAfterDays: aws.Int64(int64(30 + i))}, RecoveryPointTags: map[string]string{"n": fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		if j := waitBackupJob(t, c, aws.ToString(out.BackupJobId)); j.State != bktypes.BackupJobStateCompleted {
			t.Fatalf("backup: %s", aws.ToString(j.StatusMessage))
		}
	}
	// Enough history that halving the file cuts tables short.
	for i := range 40 {
		if _, err := c.StartRestoreJob(ctx, &bk.StartRestoreJobInput{RecoveryPointArn: aws.String("arn:aws:backup:us-east-1:000000000000:recovery-point:NOPE"),
			Metadata: map[string]string{"TargetTableName": fmt.Sprintf("t%d", i)}, IamRoleArn: aws.String(role)}); err == nil {
			t.Fatal("a restore of an unknown point was accepted")
		}
	}
	before := allPoints(t, m)
	closeMain(t, m)
	catalog := filepath.Join(dir, catalogFile)

	for _, damage := range []struct {
		name string
		do   func(b []byte) []byte
	}{
		{"half-truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"bytes flipped", func(b []byte) []byte {
			for off := 4096; off < len(b); off += 4096 { // the first byte of every page but the first: its type
				b[off] ^= 0xFF
			}
			return b
		}},
	} {
		t.Run(damage.name, func(t *testing.T) {
			b, err := os.ReadFile(catalog)
			if err != nil {
				t.Fatal(err)
			}
			damaged := damage.do(b)
			if err := os.WriteFile(catalog, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := openMain(t, cfg, nil); err == nil || !strings.Contains(err.Error(), "cairn catalog rebuild") {
				t.Fatalf("server start on a %s catalog: %v; want a refusal that says to run cairn catalog rebuild", damage.name, err)
			}
			out, errb, err := cairnRun(t, "catalog", "rebuild", "--data-dir", dir)
			if err != nil {
				t.Fatalf("cairn catalog rebuild: %v\n%s\n%s", err, out, errb)
			}
			i := strings.Index(out, "moved aside to ")
			if i < 0 || !strings.Contains(out, "catalog rebuilt: 2 recovery points added") {
				t.Fatalf("cairn catalog rebuild said:\n%s", out)
			}
			aside := strings.Fields(out[i+len("moved aside to "):])[0]
			if kept, err := os.ReadFile(aside); err != nil || !bytes.Equal(kept, damaged) {
				t.Fatalf("the damaged catalog was not kept as it was at %s: %v", aside, err)
			}
			m, err := openMain(t, cfg, nil)
			if err != nil {
				t.Fatalf("server start after the rebuild: %v", err)
			}
			after := allPoints(t, m)
			if len(after) != len(before) {
				t.Fatalf("%d points after the rebuild, want %d", len(after), len(before))
			}
			for id, want := range before {
				if got := after[id]; !reflect.DeepEqual(got, want) {
					t.Errorf("point %s after the rebuild:\n got %+v\nwant %+v", id, got, want)
				}
			}
			closeMain(t, m)
		})
	}
}

// TestCatalogWALLostAfterKill: the server is killed (SIGKILL) right after
// a backup completed and the catalog's WAL is lost with it, so the catalog
// no longer lists the point; `cairn catalog rebuild` adds it back to the
// catalog, which keeps everything else, and it restores (13.3).
func TestCatalogWALLostAfterKill(t *testing.T) {
	dyn := testbed.Dynalite(t)
	db := ddbClient(dyn.Endpoint)
	ctx := context.Background()
	createTable(t, db, "walled", ddbjson.TypeS, false)
	seedRandom(t, db, "walled", 300)
	wantN, wantSum := tableChecksum(t, db, "walled")
	dir := filepath.Join(t.TempDir(), "data")

	// A first point, in the catalog file itself: the server is stopped
	// cleanly, which checkpoints the WAL into it.
	p := startProc(t, dir, dyn.Endpoint)
	c, err := procClient(dir, p.addr)
	if err != nil {
		t.Fatal(err)
	}
	first := waitBackupJob(t, c, startBackup(t, c, "walled"))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	// A second one, then SIGKILL, and the WAL lost.
	p = startProc(t, dir, dyn.Endpoint)
	if c, err = procClient(dir, p.addr); err != nil {
		t.Fatal(err)
	}
	second := waitBackupJob(t, c, startBackup(t, c, "walled"))
	if first.State != bktypes.BackupJobStateCompleted || second.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("backups: %s, %s", first.State, second.State)
	}
	p.kill(t)
	catalog := filepath.Join(dir, catalogFile)
	for _, s := range []string{"-wal", "-shm"} {
		if err := os.Remove(catalog + s); err != nil {
			t.Fatalf("the WAL to lose: %v", err)
		}
	}
	lost := pointID(aws.ToString(second.RecoveryPointArn))
	if got, err := sqlite.Inspect(ctx, catalog, true); err != nil || got.RecoveryPoints != 1 {
		t.Fatalf("the catalog after losing its WAL: %+v, %v; want the first point only", got, err)
	}

	out, err := exec.Command(cairnBinary(t), "catalog", "rebuild", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "added 1 recovery points, 1 already in the catalog") {
		t.Fatalf("cairn catalog rebuild: %v\n%s", err, out)
	}
	p = startProc(t, dir, dyn.Endpoint)
	if c, err = procClient(dir, p.addr); err != nil {
		t.Fatal(err)
	}
	rp, err := c.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"), RecoveryPointArn: second.RecoveryPointArn})
	if err != nil || rp.Status != bktypes.RecoveryPointStatusCompleted || aws.ToString(rp.ResourceArn) != "arn:aws:dynamodb:us-east-1:000000000000:table/walled" {
		t.Fatalf("the point lost with the WAL, after the rebuild: %+v, %v", rp, err)
	}
	r := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(second.RecoveryPointArn), "walled-back", false))
	if r.Status != bktypes.RestoreJobStatusCompleted {
		t.Fatalf("restore of %s: %s %s", lost, r.Status, aws.ToString(r.StatusMessage))
	}
	if n, sum := tableChecksum(t, db, "walled-back"); n != wantN || sum != wantSum {
		t.Fatalf("restored: %d items %s, want %d %s", n, sum, wantN, wantSum)
	}
	p.kill(t)
}

// TestCatalogBackupWhileJobRuns: `cairn catalog backup` copies the catalog
// of a running server while a backup job runs; the copy opens, passes the
// integrity check and lists the jobs (13.3).
func TestCatalogBackupWhileJobRuns(t *testing.T) {
	ctx := context.Background()
	dyn := testbed.Dynalite(t)
	src := newHeldSource(t, dyn.Endpoint)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "live", "S", false)
	seedRandom(t, db, "live", 100)
	dir := t.TempDir()
	m := testServer(t, dir, src.URL)
	c := backupClient(m)
	done := waitBackupJob(t, c, startBackup(t, c, "live"))
	src.Hold()
	running := startBackup(t, c, "live")
	src.waitHeld(t, "DescribeTable")

	file := filepath.Join(t.TempDir(), "catalog-copy.db")
	out, errb, err := cairnRun(t, "catalog", "backup", file, "--data-dir", dir)
	if err != nil || !strings.Contains(out, "integrity check ok") || !strings.Contains(out, "2 backup jobs") {
		t.Fatalf("cairn catalog backup: %v\n%s\n%s", err, out, errb)
	}
	cp, err := sqlite.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	jobs, _, err := cp.ListBackupJobs(ctx, backup.BackupJobFilter{})
	if err != nil || len(jobs) != 2 {
		t.Fatalf("jobs in the copy: %v, %v", jobs, err)
	}
	states := map[string]backup.JobState{}
	for _, j := range jobs {
		states[j.ID] = j.State
	}
	if states[aws.ToString(done.BackupJobId)] != backup.JobCompleted || states[running] != backup.JobRunning {
		t.Fatalf("job states in the copy: %v", states)
	}
	if pts, _, err := cp.ListRecoveryPoints(ctx, backup.RecoveryPointFilter{}); err != nil || len(pts) != 1 {
		t.Fatalf("points in the copy: %d, %v; want the completed one", len(pts), err)
	}
	// A second backup to the same file is refused; the first is kept.
	if _, _, err := cairnRun(t, "catalog", "backup", file, "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a backup over an existing file: %v", err)
	}
	src.Release()
	if j := waitBackupJob(t, c, running); j.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("the job that ran during the catalog backup: %s %s", j.State, aws.ToString(j.StatusMessage))
	}
}
