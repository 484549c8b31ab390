package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"

	fileblob "github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
	"github.com/cairn-backup/cairn/internal/vault"
)

// storageServer runs the real server in-process on dir with the operator
// allowing file vaults under allowed; stop closes it (once).
func storageServer(t *testing.T, dir, ddbEndpoint string, allowed ...string) (m *Main, stop func()) {
	t.Helper()
	m = &Main{
		Config: Config{Listen: "127.0.0.1:0", DataDir: dir, Sources: []SourceConfig{{
			Name: "local", Region: "us-east-1", Endpoint: ddbEndpoint, AccessKeyID: "test", SecretAccessKey: "test",
		}}, Storage: StorageConfig{AllowedPaths: allowed}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if os.Getenv("CAIRN_TEST_LOG") != "" {
		m.Logger = slog.Default()
	}
	if err := m.Open(context.Background()); err != nil {
		t.Fatalf("open server: %v", err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { m.Close() }) }
	t.Cleanup(stop)
	return m, stop
}

// markerVault returns the vault the marker (vault record) at path names.
func markerVault(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Vault string `json:"vault"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("marker %s: %v", path, err)
	}
	return m.Vault
}

func tagsJSON(t *testing.T, tags map[string]string) string {
	t.Helper()
	b, err := json.Marshal(tags)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Issue 13.1 through the real AWS CLI: a vault whose cold path is the
// Default vault's directory, or whose storage is Default's cold directory,
// the data dir, a path that normalises into Default or a symbolic link into
// it, is refused even though the operator allows the directory around the
// data dir; after a restart Default's recovery point is intact and its
// marker names it.
func TestVaultStorageAttacksAWSCLI(t *testing.T) {
	dyn := testbed.Dynalite(t)
	testbed.AWSCLI(t)
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	m, stop := storageServer(t, dir, dyn.Endpoint, root)
	awscli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	db := ddbClient(dyn.Endpoint)
	createTable(t, db, "orders", ddbjson.TypeS, false)
	seedRandom(t, db, "orders", 300)
	c := backupClient(m)
	good := waitBackupJob(t, c, startBackup(t, c, "orders"))
	if good.State != "COMPLETED" {
		t.Fatalf("backup: %s %s", good.State, aws.ToString(good.StatusMessage))
	}
	vaults := filepath.Join(dir, "vaults")
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(vaults, "Default"), link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		tags map[string]string
		want string
	}{
		{"cold path on Default's directory", map[string]string{"cairn:cold-path": filepath.Join(vaults, "Default")}, "vault Default"},
		{"storage on Default's cold directory", map[string]string{"cairn:storage": filepath.Join(vaults, "Default.cold")}, "cold directory of vault Default"},
		{"storage on the data dir", map[string]string{"cairn:storage": dir}, "data dir"},
		{"a path that normalises into Default", map[string]string{"cairn:storage": "file://" + root + "/x/../data/vaults/Default"}, "vault Default"},
		{"a symbolic link into Default", map[string]string{"cairn:storage": link}, "vault Default"},
	} {
		errb := awscli.fails("InvalidParameterValueException", "create-backup-vault", "--backup-vault-name", "evil",
			"--backup-vault-tags", tagsJSON(t, tt.tags))
		if !strings.Contains(errb, tt.want) {
			t.Errorf("%s: %s, want it to say %q", tt.name, errb, tt.want)
		}
	}
	if list := jsonList(t, awscli.ok("list-backup-vaults"), "BackupVaultList"); len(list) != 1 {
		t.Fatalf("vaults after the refusals: %v", list)
	}

	// A restart: recovery and the sweep keep Default's point and marker.
	stop()
	m, stop = storageServer(t, dir, dyn.Endpoint, root)
	c = backupClient(m)
	rp, err := c.DescribeRecoveryPoint(context.Background(), &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"),
		RecoveryPointArn: good.RecoveryPointArn})
	if err != nil || rp.Status != "COMPLETED" {
		t.Fatalf("Default's point after the restart: %+v, %v", rp, err)
	}
	stop() // waits for the background sweep
	store, err := fileblob.New(filepath.Join(vaults, "Default"))
	if err != nil {
		t.Fatal(err)
	}
	if err := vault.New(store).Verify(context.Background(), pointID(aws.ToString(good.RecoveryPointArn))); err != nil {
		t.Fatalf("Default's point does not verify: %v", err)
	}
	if got := markerVault(t, filepath.Join(vaults, "Default", "cairn-vault.json")); got != "Default" {
		t.Fatalf("Default's marker names %q", got)
	}
}

// Issue 8.3 on versitygw: a second vault on the same bucket and an equal
// or nested prefix is refused; a sibling prefix is not.
func TestS3PrefixOverlapVersity(t *testing.T) {
	dyn := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	m := testServerS3(t, t.TempDir(), dyn.Endpoint, s3)
	c := backupClient(m)
	ctx := context.Background()
	create := func(name, loc string) error {
		_, err := c.CreateBackupVault(ctx, &bk.CreateBackupVaultInput{BackupVaultName: aws.String(name),
			BackupVaultTags: map[string]string{"cairn:storage": loc, "cairn:s3-endpoint": s3.Endpoint}})
		return err
	}
	if err := create("team", "s3://cairn-overlap/team"); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{"s3://cairn-overlap/team", "s3://cairn-overlap/team/", "s3://cairn-overlap/team/nested", "s3://cairn-overlap"} {
		err := create("evil", loc)
		if err == nil || !strings.Contains(err.Error(), "InvalidParameterValueException") || !strings.Contains(err.Error(), "S3 prefix of vault team") {
			t.Errorf("vault on %s: %v, want InvalidParameterValueException naming vault team", loc, err)
		}
	}
	if err := create("teamx", "s3://cairn-overlap/teamx"); err != nil {
		t.Fatalf("a sibling prefix: %v", err)
	}
	marker := bucketFiles(t, s3, "cairn-overlap", "team")
	if strings.Join(marker, ",") != "cairn-vault.json" {
		t.Fatalf("vault team's prefix holds %v", marker)
	}
	if got := markerVault(t, filepath.Join(s3.Dir, "cairn-overlap", "team", "cairn-vault.json")); got != "team" {
		t.Fatalf("team's marker names %q", got)
	}
}

// Issue 8.6: a client cannot make the server call an address of its
// choosing (with the server's S3 credentials) nor write in a directory the
// operator did not allow; the error says what the operator must configure.
func TestStorageMustBeAllowedAWSCLI(t *testing.T) {
	dyn := testbed.Dynalite(t)
	s3 := testbed.Versity(t)
	testbed.AWSCLI(t)
	var calls atomic.Int32
	var leaked atomic.Bool
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), s3.AccessKey) {
			leaked.Store(true)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer trap.Close()
	m := testServerS3(t, t.TempDir(), dyn.Endpoint, s3)
	awscli := newAWSCLI(t, m, m.Keys.AccessKeyID, m.Keys.SecretAccessKey)
	outside := filepath.Join(t.TempDir(), "elsewhere")
	for _, tt := range []struct {
		tags map[string]string
		want string
	}{
		{map[string]string{"cairn:storage": "s3://stolen/p", "cairn:s3-endpoint": trap.URL}, "storage.s3_endpoints"},
		{map[string]string{"cairn:storage": "s3://stolen/p", "cairn:s3-endpoint": "nope"}, "configured: versity"},
		{map[string]string{"cairn:storage": outside}, "storage.allowed_paths"},
		{map[string]string{"cairn:cold-path": outside}, "storage.allowed_paths"},
	} {
		errb := awscli.fails("InvalidParameterValueException", "create-backup-vault", "--backup-vault-name", "evil",
			"--backup-vault-tags", tagsJSON(t, tt.tags))
		if !strings.Contains(errb, tt.want) {
			t.Errorf("%v: %s, want it to say %q", tt.tags, errb, tt.want)
		}
	}
	if calls.Load() != 0 || leaked.Load() {
		t.Fatalf("the server called the client's address %d times (credentials sent: %v)", calls.Load(), leaked.Load())
	}
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Fatalf("the refused directory was made: %v", err)
	}
	// The configured endpoint, by name: accepted, on versitygw.
	awscli.ok("create-backup-vault", "--backup-vault-name", "offsite", "--backup-vault-tags",
		tagsJSON(t, map[string]string{"cairn:storage": "s3://cairn-allowed/v", "cairn:s3-endpoint": "versity"}))
	if files := bucketFiles(t, s3, "cairn-allowed", "v"); strings.Join(files, ",") != "cairn-vault.json" {
		t.Fatalf("the allowed vault's prefix holds %v", files)
	}
}
