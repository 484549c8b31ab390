//go:build unix

package sqlite_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

const killPlans = 40

// policyVersion returns the changes that make policy "p" say version v
// (30 or 35 days) on all of its plans.
func policyVersion(v, round int, create bool) (*backup.Policy, backup.PolicyChanges) {
	at := t0.Add(time.Duration(round) * time.Second)
	pol := &backup.Policy{Name: "p", Type: backup.PolicyTypeBackup, Document: fmt.Sprint(v), CreationDate: t0, LastUpdateDate: at}
	var ch backup.PolicyChanges
	for i := range killPlans {
		id := fmt.Sprintf("plan-%02d", i)
		p := &backup.BackupPlan{ID: id, ARN: "arn:aws:backup:eu-west-1:123456789012:backup-plan:" + id,
			VersionID: fmt.Sprintf("v%d", round), CreationDate: at, ManagedBy: "p",
			PlanDocument: backup.PlanDocument{BackupPlanName: id, Rules: []backup.BackupRule{{RuleID: "r", RuleName: "r",
				TargetBackupVaultName: "Default", Lifecycle: backup.Lifecycle{DeleteAfterDays: int64(v)}}}}}
		if create {
			ch.CreatePlans = append(ch.CreatePlans, p)
			ch.CreateSelections = append(ch.CreateSelections, &backup.BackupSelection{SelectionID: id + "-s0", BackupPlanID: id,
				CreationDate: at, ManagedBy: "p", SelectionDocument: backup.SelectionDocument{SelectionName: "s0", IAMRoleARN: "arn:aws:iam::123456789012:role/r"}})
			continue
		}
		ch.UpdatePlans = append(ch.UpdatePlans, p)
		// Each round replaces the selection: delete the old one, create the next.
		ch.DeleteSelections = append(ch.DeleteSelections, &backup.BackupSelection{SelectionID: fmt.Sprintf("%s-s%d", id, round-1), BackupPlanID: id})
		ch.CreateSelections = append(ch.CreateSelections, &backup.BackupSelection{SelectionID: fmt.Sprintf("%s-s%d", id, round), BackupPlanID: id,
			CreationDate: at, ManagedBy: "p", SelectionDocument: backup.SelectionDocument{SelectionName: fmt.Sprintf("s%d", round), IAMRoleARN: "arn:aws:iam::123456789012:role/r"}})
	}
	return pol, ch
}

// TestKilledMidApply SIGKILLs a process that applies a policy over and over,
// each apply changing 40 plans and their selections, at a random moment:
// after a restart the policy and all its plans and selections are of one
// apply, never of two.
func TestKilledMidApply(t *testing.T) {
	if path := os.Getenv("CAIRN_SQLITE_APPLY_CHILD"); path != "" {
		c, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		pol, ch := policyVersion(30, 0, true)
		if err := c.ApplyPolicy(t.Context(), pol, ch); err != nil {
			t.Fatal(err)
		}
		fmt.Println("ready")
		for round := 1; ; round++ {
			pol, ch := policyVersion(30+5*(round%2), round, false)
			if err := c.ApplyPolicy(t.Context(), pol, ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	for try := range 4 {
		path := filepath.Join(t.TempDir(), "catalog.db")
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidApply$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CAIRN_SQLITE_APPLY_CHILD="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %q", line)
		}
		time.Sleep(time.Duration(20+try*37) * time.Millisecond) // somewhere in the applies
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); !killedBySignal(err) {
			t.Fatalf("child was not killed: %v", err)
		}
		c, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		pol, err := c.GetPolicy(t.Context(), "p")
		if err != nil {
			t.Fatal(err)
		}
		rounds := map[string]bool{}
		for i := range killPlans {
			id := fmt.Sprintf("plan-%02d", i)
			p, err := c.GetBackupPlan(t.Context(), id, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(p.Rules[0].Lifecycle.DeleteAfterDays); got != pol.Document {
				t.Fatalf("try %d: policy says %s days, plan %s %s", try, pol.Document, id, got)
			}
			sels, _, err := c.ListBackupSelections(t.Context(), id, backup.Page{})
			if err != nil || len(sels) != 1 || "v"+sels[0].SelectionName[1:] != p.VersionID {
				t.Fatalf("try %d: plan %s version %s has selections %v (%v)", try, id, p.VersionID, sels, err)
			}
			rounds[p.VersionID] = true
		}
		if len(rounds) != 1 {
			t.Fatalf("try %d: plans of several applies: %v", try, rounds)
		}
		t.Logf("try %d: killed after version %v", try, rounds)
		c.Close()
	}
}
