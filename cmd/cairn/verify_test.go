package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// TestVaultVerify damages each kind of file of a recovery point on disk in
// turn, one byte at a time: `cairn vault verify` (with and without
// --read-data) finds every one, names the file and exits 4, and a restore
// of the damaged point is refused before it makes its table, naming the
// file too. A clean vault verifies with exit 0; a catalog and a vault that
// disagree are reported both ways.
func TestVaultVerify(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	m := testServer(t, t.TempDir(), dyn.Endpoint)
	cliEnv(t, m)
	db := ddbClient(dyn.Endpoint)
	c := backupClient(m)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 600)
	arn := waitBackupJob(t, c, startBackup(t, c, "orders")).RecoveryPointArn
	id := pointID(aws.ToString(arn))
	dir := filepath.Join(m.Config.DataDir, "vaults", "Default", "AWSDynamoDB", id)

	out, _ := cairnOK(t, "vault", "verify")
	if !strings.Contains(out, "checked 1 vaults, 1 recovery points") || !strings.Contains(out, ": 0 problems") {
		t.Fatalf("verify of a clean vault:\n%s", out)
	}
	out, _ = cairnOK(t, "vault", "verify", "--vault", "Default", "--read-data")
	if !strings.Contains(out, "and 600 items") || !strings.Contains(out, ": 0 problems") {
		t.Fatalf("verify --read-data of a clean vault:\n%s", out)
	}
	out, _ = cairnOK(t, "vault", "verify", "--read-data", "--output", "json")
	var rep struct {
		Vaults []struct {
			Vault          struct{ BackupVaultName string }
			RecoveryPoints []struct{ RecoveryPointArn string }
		}
		Summary struct{ RecoveryPoints, Problems, Items int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Vaults) != 1 || rep.Summary.RecoveryPoints != 1 ||
		rep.Summary.Items != 600 || rep.Vaults[0].RecoveryPoints[0].RecoveryPointArn != aws.ToString(arn) {
		t.Fatalf("verify --output json (%v):\n%s", err, out)
	}

	dataFiles, _ := filepath.Glob(filepath.Join(dir, "data", "*.json.zst"))
	if len(dataFiles) == 0 {
		t.Fatal("no data file")
	}
	for n, c2 := range []struct {
		file string // under the point's directory
		at   string // flip the byte that ends this text; "" the middle byte
	}{
		{"manifest-summary.checksum", ""},
		{"manifest-files.checksum", ""},
		{"manifest-summary.json", `"exportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/ord`},
		{"manifest-summary.json", `"itemCount": 6`},
		{"manifest-files.json", `"md5Checksum":"`},
		{"cairn-metadata.json", `"TableName":"ord`},
		{"data/" + filepath.Base(dataFiles[0]), ""},
	} {
		t.Run(c2.file+c2.at, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(c2.file))
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b := bytes.Clone(orig)
			i := len(b) / 2
			if c2.at != "" {
				if i = bytes.Index(b, []byte(c2.at)); i < 0 {
					t.Fatalf("%s has no %q", c2.file, c2.at)
				}
				i += len(c2.at) - 1
			}
			b[i] ^= 0x01
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, orig, 0o644)
			name := filepath.Base(c2.file)
			for _, args := range [][]string{{"vault", "verify"}, {"vault", "verify", "--read-data"}} {
				out, _, err := cairnCLI(t, args...)
				if exitCode(err) != exitProblems || !strings.Contains(out, "problem: ") || !strings.Contains(out, name) {
					t.Errorf("cairn %s: exit %d (%v), output does not report %s:\n%s", strings.Join(args, " "), exitCode(err), err, name, out)
				}
			}
			target := "orders-restored-" + string(rune('a'+n))
			j := waitRestoreJob(t, c, startRestore(t, c, aws.ToString(arn), target, false))
			if j.Status != "FAILED" || !strings.Contains(aws.ToString(j.StatusMessage), name) ||
				!strings.Contains(aws.ToString(j.StatusMessage), "nothing was restored") {
				t.Errorf("restore of the damaged point: %s %q", j.Status, aws.ToString(j.StatusMessage))
			}
			_, err = db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(target)})
			var nf *ddbtypes.ResourceNotFoundException
			if !errors.As(err, &nf) {
				t.Errorf("the refused restore made table %s (%v)", target, err)
			}
		})
	}
	// Repaired: clean again.
	cairnOK(t, "vault", "verify", "--read-data")

	// The catalog lists a point whose files are gone; the vault holds a
	// complete point the catalog lost.
	arn2 := waitBackupJob(t, c, startBackup(t, c, "orders")).RecoveryPointArn
	id2 := pointID(aws.ToString(arn2))
	if err := os.Rename(dir, filepath.Join(t.TempDir(), "away")); err != nil {
		t.Fatal(err)
	}
	if err := m.catalog.DeleteRecoveryPoint(context.Background(), id2); err != nil {
		t.Fatal(err)
	}
	out, _, err := cairnCLI(t, "vault", "verify")
	if exitCode(err) != exitProblems {
		t.Errorf("verify of a disagreeing catalog and vault: exit %d (%v)", exitCode(err), err)
	}
	for _, want := range []string{
		"recovery point " + id + ": the catalog lists the point as COMPLETED (WARM) but the vault's storage has no file of it",
		"recovery point " + id2 + ": the vault's storage holds a complete recovery point the catalog does not list",
		"1 recovery points in the catalog, 1 complete in storage",
		": 2 problems",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	cairnFails(t, 1, []string{"ResourceNotFoundException"}, "vault", "verify", "--vault", "nope")
}
