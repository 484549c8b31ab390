package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairn-backup/cairn/internal/testbed"
)

const (
	superwerkerTags    = "../../internal/policy/presets/superwerker-tag-policy.json"
	superwerkerBackups = "../../internal/policy/presets/superwerker-backup-policy.json"
)

// startProcArgs is startProcWith with more arguments for `cairn server`.
func startProcArgs(t *testing.T, dataDir, ddbEndpoint, extraConfig string, args ...string) *proc {
	t.Helper()
	cfg := procConfig(t, dataDir, ddbEndpoint, extraConfig)
	p := &proc{addr: fmt.Sprintf("127.0.0.1:%d", testbed.FreePort(t)), log: dataDir + ".log"}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(cairnBinary(t), append([]string{"server", "--listen", p.addr, "--data-dir", dataDir, "--config", cfg}, args...)...)
	p.cmd.Env = testbed.Env()
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait(); logf.Close() })
	p.waitLog(t, "msg=\"cairn server started\"")
	return p
}

// procAWSCLI is the AWS CLI against a server process on dataDir.
func procAWSCLI(t *testing.T, p *proc, dataDir string) *awsCLI {
	t.Helper()
	k, err := readKeys(filepath.Join(dataDir, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	return &awsCLI{t: t, bin: testbed.AWSCLI(t), endpoint: "http://" + p.addr,
		env: testbed.Env("AWS_ACCESS_KEY_ID="+k.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+k.SecretAccessKey)}
}

type listedPlans struct {
	BackupPlansList []struct{ BackupPlanName, BackupPlanId, VersionId string }
}

func (a *awsCLI) plans() listedPlans {
	a.t.Helper()
	out, errb, code := a.run("list-backup-plans")
	if code != 0 {
		a.t.Fatalf("list-backup-plans: exit %d: %s", code, errb)
	}
	var l listedPlans
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		a.t.Fatal(err)
	}
	return l
}

// A server started with --governance superwerker has superwerker's plan,
// which the AWS CLI sees and cannot change or delete; a restart (with the
// config key instead of the flag) changes nothing.
func TestGovernanceSuperwerkerPreset(t *testing.T) {
	dyn := testbed.Dynalite(t)
	dir := filepath.Join(t.TempDir(), "data")
	p := startProcArgs(t, dir, dyn.Endpoint, "", "--governance", "superwerker")
	aws := procAWSCLI(t, p, dir)
	l := aws.plans()
	if len(l.BackupPlansList) != 1 || l.BackupPlansList[0].BackupPlanName != "superwerker-backup" {
		t.Fatalf("list-backup-plans = %+v", l)
	}
	id, version := l.BackupPlansList[0].BackupPlanId, l.BackupPlansList[0].VersionId
	out, errb, code := aws.run("get-backup-plan", "--backup-plan-id", id)
	if code != 0 || !strings.Contains(out, `"cron(0 5 ? * * *)"`) || !strings.Contains(out, `"DeleteAfterDays": 30`) {
		t.Fatalf("get-backup-plan: %d %s %s", code, out, errb)
	}
	out, errb, code = aws.run("list-backup-selections", "--backup-plan-id", id)
	var sels struct {
		BackupSelectionsList []struct{ SelectionName, SelectionId, IamRoleArn string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &sels) != nil || len(sels.BackupSelectionsList) != 1 ||
		sels.BackupSelectionsList[0].SelectionName != "backup-daily" ||
		sels.BackupSelectionsList[0].IamRoleArn != "arn:aws:iam::000000000000:role/service-role/AWSBackupDefaultServiceRole" {
		t.Fatalf("list-backup-selections: %d %s %s", code, out, errb)
	}

	refused := func(args ...string) {
		t.Helper()
		_, errb, code := aws.run(args...)
		if code == 0 || !strings.Contains(errb, "InvalidRequestException") || !strings.Contains(errb, "managed by policy superwerker-backup") {
			t.Fatalf("aws backup %s: exit %d, stderr %s; want InvalidRequestException naming the policy", args[0], code, errb)
		}
	}
	refused("update-backup-plan", "--backup-plan-id", id, "--backup-plan",
		`{"BackupPlanName":"superwerker-backup","Rules":[{"RuleName":"r","TargetBackupVaultName":"Default","Lifecycle":{"DeleteAfterDays":1}}]}`)
	refused("delete-backup-plan", "--backup-plan-id", id)
	refused("delete-backup-selection", "--backup-plan-id", id, "--selection-id", sels.BackupSelectionsList[0].SelectionId)
	refused("create-backup-selection", "--backup-plan-id", id, "--backup-selection",
		`{"SelectionName":"more","IamRoleArn":"arn:aws:iam::000000000000:role/r","Resources":["*"]}`)

	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	p = startProcArgs(t, dir, dyn.Endpoint, "governance: superwerker\n")
	p.waitLog(t, "action=NONE")
	aws = procAWSCLI(t, p, dir)
	l = aws.plans()
	if len(l.BackupPlansList) != 1 || l.BackupPlansList[0].BackupPlanId != id || l.BackupPlansList[0].VersionId != version {
		t.Fatalf("after a restart: %+v, want plan %s version %s unchanged", l, id, version)
	}
	p.stop(t, syscall.SIGTERM)
}

// cairn policy apply|list|show|delete with superwerker's two documents.
func TestPolicyCLI(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)

	out, _ := cairnOK(t, "policy", "apply", "-f", superwerkerTags, "--type", "TAG_POLICY", "--name", "superwerker-backup-tags",
		"--default-value", "daily", "--exclude", "tmp-*")
	if !strings.Contains(out, "applied policy superwerker-backup-tags (TAG_POLICY): stored") {
		t.Errorf("apply tag policy: %q", out)
	}
	out, _ = cairnOK(t, "policy", "apply", "-f", superwerkerBackups, "--type", "backup_policy")
	rows := tableRows(t, out, "KIND NAME ACTION ID MESSAGE")
	if len(rows) != 4 || rows[1][0] != "BackupPlan" || rows[1][1] != "superwerker-backup" || rows[1][2] != "CREATE" ||
		!strings.Contains(out, "applied policy superwerker-backup-policy (BACKUP_POLICY): 2 created") {
		t.Errorf("apply backup policy (its name from the file's): %q", out)
	}
	out, _ = cairnOK(t, "policy", "apply", "-f", superwerkerBackups, "--type", "BACKUP_POLICY")
	if !strings.Contains(out, "2 unchanged") {
		t.Errorf("apply again: %q", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("line wider than 100 columns: %q", line)
		}
	}

	out, _ = cairnOK(t, "policy", "list")
	rows = tableRows(t, out, "NAME TYPE UPDATED OPTIONS")
	if len(rows) != 2 || rows[0][0] != "superwerker-backup-policy" || rows[1][0] != "superwerker-backup-tags" ||
		!strings.Contains(out, "default=daily report exclude=tmp-*") {
		t.Errorf("policy list: %q", out)
	}
	out, _ = cairnOK(t, "policy", "show", "superwerker-backup-policy")
	if kvValue(t, out, "Type") != "BACKUP_POLICY" || !strings.Contains(out, "backup-daily") || !strings.Contains(out, `"@@assign": "30"`) {
		t.Errorf("policy show: %q", out)
	}
	out, _ = cairnOK(t, "policy", "show", "superwerker-backup-tags", "--output", "json")
	var shown struct {
		Policy struct {
			PolicyName, Type, Content string
			Options                   struct{ DefaultValue, OnViolation string }
		}
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.Policy.Options.DefaultValue != "daily" ||
		shown.Policy.Options.OnViolation != "report" || !strings.Contains(shown.Policy.Content, "superwerker:backup") {
		t.Errorf("policy show --output json: %v %q", err, out)
	}

	// Bad input: the path at fault, nothing applied.
	bad := filepath.Join(t.TempDir(), "bad.json")
	b, _ := os.ReadFile(superwerkerBackups)
	os.WriteFile(bad, []byte(strings.Replace(string(b), `"30"`, `"-3"`, 1)), 0o600)
	cairnFails(t, 1, []string{"InvalidParameterValueException", "plans.superwerker-backup.rules.backup-daily.lifecycle.delete_after_days"},
		"policy", "apply", "-f", bad, "--type", "BACKUP_POLICY", "--name", "bad")
	cairnFails(t, 1, []string{"default value \"weekly\" is not allowed"},
		"policy", "apply", "-f", superwerkerTags, "--type", "TAG_POLICY", "--name", "t2", "--default-value", "weekly")
	cairnFails(t, 2, []string{"--type must be TAG_POLICY or BACKUP_POLICY"}, "policy", "apply", "-f", superwerkerTags, "--type", "SCP")
	cairnFails(t, 1, []string{"NotFound"}, "policy", "show", "bad")
	out, _ = cairnOK(t, "policy", "list")
	if strings.Contains(out, "bad") || strings.Contains(out, "t2") {
		t.Errorf("a refused apply stored a policy: %q", out)
	}

	out, _ = cairnOK(t, "policy", "delete", "superwerker-backup-policy")
	if !strings.Contains(out, "deleted policy superwerker-backup-policy") || !strings.Contains(out, "DELETE") {
		t.Errorf("policy delete: %q", out)
	}
	out, _ = cairnOK(t, "plan", "list")
	if strings.Contains(out, "superwerker-backup") {
		t.Errorf("the policy's plan outlived it: %q", out)
	}
}
