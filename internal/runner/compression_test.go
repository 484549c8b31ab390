package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/vault"
)

// The data files' compression is the job's (BackupOptions), else the
// vault's (cairn:compression), else the server's; the vault tag is checked
// when the vault is created and fixed afterwards.
func TestCompressionPerVaultAndJob(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for c, want := range map[string]vault.Compression{backup.CompressionZstd: vault.Zstd, backup.CompressionGzip: vault.Gzip,
		backup.CompressionNone: vault.None} {
		if vault.Compression(c) != want {
			t.Fatalf("the domain names %q what the vault names %q", c, want)
		}
	}
	if _, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "bad", Tags: map[string]string{backup.TagCompression: "lz4"}}); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Fatalf("vault with compression lz4: %v", err)
	}
	v, err := f.svc.CreateVault(ctx, backup.CreateVaultInput{Name: "exports", Tags: map[string]string{backup.TagCompression: "GZIP", "team": "data"}})
	if err != nil {
		t.Fatal(err)
	}
	if v.Storage.Compression != backup.CompressionGzip {
		t.Fatalf("vault compression %q, tags %v", v.Storage.Compression, v.Tags)
	}
	if err := f.svc.TagResource(ctx, v.ARN, map[string]string{backup.TagCompression: "zstd"}); backup.ErrorCode(err) != backup.ErrInvalidParameter ||
		!strings.Contains(err.Error(), "BackupOptions") {
		t.Fatalf("TagResource changing the compression: %v", err)
	}
	arn := f.table(t, "compressed", 50)
	for _, c := range []struct {
		vault, option string
		ext           string
	}{
		{"Default", "", ".json.zst"},
		{"exports", "", ".json.gz"},
		{"exports", backup.CompressionNone, ".json"},
		{"Default", backup.CompressionGzip, ".json.gz"},
	} {
		j, err := f.svc.StartBackupJob(ctx, backup.StartBackupJobInput{IAMRoleARN: testRole, VaultName: c.vault, ResourceARN: arn,
			Options: backup.BackupOptions{Compression: c.option}})
		if err != nil {
			t.Fatal(err)
		}
		if j = f.wait(t, j.ID); j.State != backup.JobCompleted {
			t.Fatalf("backup %s %q", j.State, j.StatusMessage)
		}
		bv, err := f.svc.GetVault(ctx, c.vault)
		if err != nil {
			t.Fatal(err)
		}
		store, err := f.svc.store(ctx, bv)
		if err != nil {
			t.Fatal(err)
		}
		r, err := vault.New(store).Open(ctx, recoveryPointID(j.RecoveryPointARN))
		if err != nil {
			t.Fatal(err)
		}
		for _, fe := range r.Files() {
			if !strings.HasSuffix(fe.DataFileS3Key, c.ext) || strings.HasSuffix(fe.DataFileS3Key, ".json.zst") != (c.ext == ".json.zst") {
				t.Errorf("vault %s, option %q: data file %s, want %s", c.vault, c.option, fe.DataFileS3Key, c.ext)
			}
		}
	}
}
