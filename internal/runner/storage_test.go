package runner

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobfault"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/vault"
)

// logBuffer collects a Service's log for tests that check what it said.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// logTo makes every Service of e log into a buffer it returns.
func (e *lcEnv) logTo() *logBuffer {
	buf := &logBuffer{}
	prev := e.adjust
	e.adjust = func(c *Config) {
		if prev != nil {
			prev(c)
		}
		c.Logger = slog.New(slog.NewTextHandler(buf, nil))
	}
	return buf
}

// marker returns the vault name the marker in st names ("" if none).
func (e *lcEnv) marker(st backup.VaultStorage) string {
	e.t.Helper()
	m, found, err := readMarker(context.Background(), e.store(st))
	if err != nil {
		e.t.Fatal(err)
	}
	if !found {
		return ""
	}
	return m.Vault
}

func fileStorage(path string) backup.VaultStorage {
	return backup.VaultStorage{Kind: backup.StorageFile, Path: path}
}

// refused checks that CreateVault refuses tags with InvalidParameter and a
// message holding want, and that no vault was recorded.
func (e *lcEnv) refused(svc *Service, name string, tags map[string]string, want string) {
	e.t.Helper()
	_, err := svc.CreateVault(context.Background(), backup.CreateVaultInput{Name: name, Tags: tags})
	if backup.ErrorCode(err) != backup.ErrInvalidParameter || !strings.Contains(err.Error(), want) {
		e.t.Errorf("CreateVault %s with %v: %v, want InvalidParameter saying %q", name, tags, err, want)
	}
	if _, err := e.cat.GetVault(context.Background(), name); !backup.IsNotFound(err) {
		e.t.Errorf("refused vault %s exists: %v", name, err)
	}
}

// The attacks of issue 13.1, and every other way one vault's locations
// could overlap another's or cairn's data dir, are refused at creation
// with an error naming what they overlap, even where the operator's
// policy allows the directory (here: everything beside the data dir and
// the data dir itself).
func TestCreateVaultRefusesOverlaps(t *testing.T) {
	e := newLCEnv(t)
	parent := filepath.Dir(e.dataDir)
	away, err := os.MkdirTemp("", "cairn-away-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(away) })
	e.adjust = func(c *Config) { c.Storage.AllowedPaths = []string{parent, away} }
	svc := e.newService()
	def := e.vault(svc, "Default", nil)
	disk := e.fileVault(svc, "disk")
	rp := e.point(def, backup.Lifecycle{})
	vaults := filepath.Join(e.dataDir, "vaults")
	link := filepath.Join(e.diskDir, "link")
	if err := os.Symlink(filepath.Join(vaults, "Default"), link); err != nil {
		t.Fatal(err)
	}
	linkParent := filepath.Join(e.diskDir, "linkparent")
	if err := os.Symlink(vaults, linkParent); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		tags map[string]string
		want string
	}{
		{map[string]string{backup.TagColdPath: filepath.Join(vaults, "Default")}, "overlaps the directory of vault Default"},
		{map[string]string{backup.TagStorage: filepath.Join(vaults, "Default.cold")}, "overlaps the cold directory of vault Default"},
		{map[string]string{backup.TagStorage: e.dataDir}, "cairn's data dir"},
		{map[string]string{backup.TagStorage: parent, backup.TagColdPath: filepath.Join(away, "c")}, "cairn's data dir"},
		{map[string]string{backup.TagStorage: "file://" + e.dataDir + "/x/../vaults/Default"}, "vault Default"},
		{map[string]string{backup.TagStorage: link}, "vault Default"},
		{map[string]string{backup.TagStorage: filepath.Join(linkParent, "Default", "inner")}, "vault Default"},
		{map[string]string{backup.TagStorage: filepath.Join(vaults, "Default", "inner")}, "vault Default"},
		{map[string]string{backup.TagStorage: filepath.Join(vaults, "Squat")}, "cairn's data dir"},
		{map[string]string{backup.TagStorage: filepath.Join(e.dataDir, "catalog.db")}, "cairn's data dir"},
		{map[string]string{backup.TagStorage: e.diskDir}, "vault disk"},
		{map[string]string{backup.TagStorage: disk.Storage.ColdDir()}, "overlaps the cold directory of vault disk"},
		{map[string]string{backup.TagStorage: filepath.Join(e.diskDir, "new"), backup.TagColdPath: disk.Storage.Path}, "vault disk"},
	} {
		e.refused(svc, "evil", tt.tags, tt.want)
	}
	// Nothing was touched: Default's marker and point are intact.
	if got := e.marker(def.Storage); got != "Default" {
		t.Fatalf("Default's marker names %q", got)
	}
	e.checkStored(def.Storage, rp.ID)
	// Locations beside others are fine.
	e.vault(svc, "beside", map[string]string{backup.TagStorage: filepath.Join(e.diskDir, "disk2"),
		backup.TagColdPath: filepath.Join(e.diskDir, "disk.colder")})
}

// S3 vaults overlap when they share endpoint and bucket and one prefix is
// the other or lies under it.
func TestCreateVaultRefusesS3Overlaps(t *testing.T) {
	e := newLCEnv(t)
	e.memS3 = true
	e.adjust = func(c *Config) {
		c.Storage.Endpoints = append(c.Storage.Endpoints, backup.S3Endpoint{Name: "alias", URL: testS3Endpoint + "/"},
			backup.S3Endpoint{Name: "elsewhere", URL: "http://127.0.0.1:2"})
	}
	svc := e.newService()
	s3 := func(loc, endpoint string) map[string]string {
		return map[string]string{backup.TagStorage: loc, backup.TagS3Endpoint: endpoint}
	}
	e.vault(svc, "team", s3("s3://bkt/team", "test"))
	for _, tags := range []map[string]string{
		s3("s3://bkt/team", "test"), s3("s3://bkt/team/sub", "test"), s3("s3://bkt", "test"),
		s3("s3://bkt/team", "alias"), s3("s3://bkt/team/", testS3Endpoint),
	} {
		e.refused(svc, "evil", tags, "overlaps the S3 prefix of vault team")
	}
	e.vault(svc, "teamx", s3("s3://bkt/teamx", "test"))
	e.vault(svc, "other", s3("s3://other/team", "test"))
	e.vault(svc, "far", s3("s3://bkt/team", "elsewhere"))
}

// Storage comes only from what the operator allows: directories under the
// allowed roots (as written and with symbolic links followed) and
// configured S3 endpoints; anything else is refused saying what to
// configure, and nothing is written.
func TestStorageAllowList(t *testing.T) {
	e := newLCEnv(t)
	e.memS3 = true
	e.adjust = func(c *Config) {
		c.Storage = backup.StoragePolicy{AllowedPaths: []string{e.diskDir},
			Endpoints: []backup.S3Endpoint{{Name: "minio", URL: testS3Endpoint, PathStyle: true, Region: "eu-west-1", Buckets: []string{"backups"}}}}
	}
	svc := e.newService()
	outside := filepath.Join(t.TempDir(), "outside")
	escape := filepath.Join(e.diskDir, "escape")
	if err := os.Symlink(filepath.Dir(outside), escape); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		tags map[string]string
		want string
	}{
		{map[string]string{backup.TagStorage: outside}, "storage.allowed_paths"},
		{map[string]string{backup.TagStorage: "/etc/cairn-test"}, "storage.allowed_paths"},
		{map[string]string{backup.TagColdPath: outside}, "storage.allowed_paths"},
		{map[string]string{backup.TagStorage: filepath.Join(escape, "v")}, "resolves to " + filepath.Join(filepath.Dir(outside), "v")},
		{map[string]string{backup.TagStorage: "s3://backups/v", backup.TagS3Endpoint: "http://169.254.169.254"}, "storage.s3_endpoints"},
		{map[string]string{backup.TagStorage: "s3://backups/v", backup.TagS3Endpoint: "nope"}, "configured: minio"},
		{map[string]string{backup.TagStorage: "s3://secrets/v", backup.TagS3Endpoint: "minio"}, "allowed: backups"},
		{map[string]string{backup.TagStorage: "s3://backups/v", backup.TagS3Region: "us-east-1"}, "contradicts"},
	} {
		e.refused(svc, "bad", tt.tags, tt.want)
	}
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Fatalf("a refused vault's directory was made: %v", err)
	}
	v := e.vault(svc, "byurl", map[string]string{backup.TagStorage: "s3://backups/v", backup.TagS3Endpoint: testS3Endpoint + "/"})
	want := backup.VaultStorage{Kind: backup.StorageS3, Bucket: "backups", Prefix: "v", Endpoint: testS3Endpoint, EndpointName: "minio",
		Region: "eu-west-1", PathStyle: true, OwnerID: v.Storage.OwnerID}
	if v.Storage != want || v.Storage.OwnerID == "" {
		t.Fatalf("storage %+v, want %+v", v.Storage, want)
	}
	// With a single endpoint configured, naming it is optional.
	if v := e.vault(svc, "implicit", map[string]string{backup.TagStorage: "s3://backups/w"}); v.Storage.EndpointName != "minio" {
		t.Fatalf("storage %+v", v.Storage)
	}
	e.vault(svc, "allowed", map[string]string{backup.TagStorage: filepath.Join(e.diskDir, "ok")})
}

// Issue 13.1: a catalog from before overlaps were refused may hold a vault
// whose cold path is another vault's directory, or whose storage is
// another vault's cold directory or directory. A restart must not delete a
// single point of the other vault, must say so loudly, and deleting the
// overlapping vault must leave the other's marker.
func TestLegacyOverlapsAreLeftAlone(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	logs := e.logTo()
	svc := e.newService()
	def := e.vault(svc, "Default", nil)
	warmPts := []*backup.RecoveryPoint{e.point(def, backup.Lifecycle{}), e.point(def, backup.Lifecycle{})}
	coldPt := e.point(def, backup.Lifecycle{MoveToColdStorageAfterDays: 1})
	e.clock.Advance(day)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if e.get(coldPt.ID).StorageClass != backup.StorageCold {
		t.Fatal("the point did not go cold")
	}
	svc.Close()

	// What CreateVault accepted before the fix. (Their markers are beside
	// the point: Default's must survive whatever they say.)
	vaults := filepath.Join(e.dataDir, "vaults")
	legacy := func(name string, st backup.VaultStorage) {
		v := &backup.Vault{Name: name, ARN: backup.VaultARN("us-east-1", "000000000000", name), AccountID: "000000000000",
			Region: "us-east-1", CreationDate: e.clock.Now(), Storage: st}
		if err := e.cat.CreateVault(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	legacy("coldattack", backup.VaultStorage{Kind: backup.StorageFile, Path: filepath.Join(vaults, "coldattack"), ColdPath: filepath.Join(vaults, "Default")})
	legacy("onthecold", fileStorage(filepath.Join(vaults, "Default.cold")))
	legacy("ondefault", fileStorage(filepath.Join(vaults, "Default")))

	for range 2 { // two restarts, each with its recovery and sweeps
		svc = e.newService()
		svc.Close()
	}
	for _, rp := range warmPts {
		if got := e.get(rp.ID); got.Status != backup.RecoveryPointCompleted || got.StorageClass != backup.StorageWarm {
			t.Fatalf("point %s: %s %s", rp.ID, got.Status, got.StorageClass)
		}
		e.checkStored(def.Storage, rp.ID)
	}
	e.checkStored(coldStorage(def), coldPt.ID)
	for _, name := range []string{"coldattack", "onthecold", "ondefault", "Default"} {
		if !strings.Contains(logs.String(), "VAULT STORAGE OVERLAPS") || !strings.Contains(logs.String(), "vault="+name) {
			t.Errorf("the overlap of vault %s was not logged:\n%s", name, logs.String())
		}
	}

	// Deleting the vaults that sat on Default's directories leaves Default's
	// markers; once they are gone, Default is recovered and swept again
	// and keeps every point.
	svc = e.newService()
	for _, name := range []string{"ondefault", "onthecold", "coldattack"} {
		if err := svc.DeleteVault(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close()
	if got := e.marker(def.Storage); got != "Default" {
		t.Fatalf("Default's marker names %q after the deletions", got)
	}
	if got := e.marker(coldStorage(def)); got != "Default" {
		t.Fatalf("Default's cold marker names %q after the deletions", got)
	}
	e.newService()
	for _, rp := range warmPts {
		e.checkStored(def.Storage, rp.ID)
	}
	e.checkStored(coldStorage(def), coldPt.ID)
	if keys := e.keys(def.Storage, coldPt.ID); len(keys) != 0 {
		t.Fatalf("the cold point's warm copy: %v", keys)
	}
}

// A vault created on a full disk is a server-side failure (5xx with the
// reason), not a bad request, and leaves no vault.
func TestCreateVaultOnFullDisk(t *testing.T) {
	e := newLCEnv(t)
	svc := e.newService()
	path := filepath.Join(e.diskDir, "full")
	e.store(fileStorage(path)).Add(blobfault.Rule{Op: blobfault.OpPut, Err: syscall.ENOSPC})
	_, err := svc.CreateVault(context.Background(), backup.CreateVaultInput{Name: "full", Tags: map[string]string{backup.TagStorage: path}})
	if backup.ErrorCode(err) != backup.ErrUnavailable || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("CreateVault on a full disk: %v (%s), want Unavailable saying no space left", err, backup.ErrorCode(err))
	}
	if _, err := e.cat.GetVault(context.Background(), "full"); !backup.IsNotFound(err) {
		t.Fatalf("vault recorded: %v", err)
	}
}

// writeOrphan starts point id in store as a killed job would have left it:
// _started (with content started) and one data file, no summary.
func writeOrphan(t *testing.T, store blob.Store, id string, started []byte) {
	t.Helper()
	w, err := vault.New(store).Create(context.Background(), id, vault.WriterOptions{Started: started})
	if err != nil {
		t.Fatal(err)
	}
	fw := w.NewFile()
	fw.WriteItem([]byte(`{"pk":{"S":"x"}}`))
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
}

// Issue 8.7: the sweep removes every incomplete point the catalog does not
// know that it can prove is dead and the vault's, logs each and counts
// them; it keeps what another vault started and complete points. In an S3
// vault a point nothing proves this vault's is removed only once it has
// been untouched for OrphanMinAge, by the periodic sweep.
func TestSweepRemovesProvenOrphans(t *testing.T) {
	ctx := context.Background()
	e := newLCEnv(t)
	e.memS3 = true
	e.clock = clock.NewFake(time.Now()) // S3 objects carry real times
	logs := e.logTo()
	svc := e.newService()
	local := e.fileVault(svc, "local")
	remote := e.s3Vault(svc, "remote", nil)
	other := &backup.Vault{ARN: backup.VaultARN("us-east-1", "000000000000", "other"), Storage: backup.VaultStorage{OwnerID: "X"}}
	for _, v := range []*backup.Vault{local, remote} {
		st := e.store(v.Storage)
		writeOrphan(t, st, "MINE", startedFor(v, "MINE"))
		writeOrphan(t, st, "OLDSTYLE", nil)
		writeOrphan(t, st, "THEIRS", startedFor(other, "THEIRS"))
		writeOrphan(t, st, "WRONGID", startedFor(v, "SOMETHING-ELSE"))
	}
	// A complete point the catalog does not list.
	lost := e.point(local, backup.Lifecycle{})
	if err := e.cat.DeleteRecoveryPoint(ctx, lost.ID); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	points := func(v *backup.Vault) string {
		complete, incomplete, err := vault.New(e.store(v.Storage)).ListPoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := append(complete, incomplete...)
		slices.Sort(ids)
		return strings.Join(ids, ",")
	}
	svc = e.newService()
	if got, want := points(local), lost.ID+",THEIRS,WRONGID"; got != want {
		t.Errorf("local vault after the sweep: %s, want %s", got, want)
	}
	if got, want := points(remote), "OLDSTYLE,THEIRS,WRONGID"; got != want {
		t.Errorf("S3 vault after the sweep: %s, want %s", got, want)
	}
	for _, want := range []string{"removed an incomplete recovery point the catalog does not know", "recovery_point=MINE",
		"recovery_point=OLDSTYLE", "sweep of incomplete recovery points done", "removed=3"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
	// A day later the periodic sweep removes the S3 point nothing proves
	// this vault's.
	e.clock.Advance(DefaultOrphanMinAge + time.Hour)
	if err := svc.LifecycleTick(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := points(remote), "THEIRS,WRONGID"; got != want {
		t.Errorf("S3 vault after the periodic sweep: %s, want %s", got, want)
	}
}

// Locations are compared absolute, clean, with the symbolic links of their
// longest existing prefix followed.
func TestResolvePath(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	if err := os.MkdirAll(filepath.Join(real, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	rroot, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		filepath.Join(root, "link", "a"):                       filepath.Join(rroot, "real", "a"),
		filepath.Join(root, "link", "a", "not", "yet"):         filepath.Join(rroot, "real", "a", "not", "yet"),
		filepath.Join(root, "x", "..", "link", "a", "..", "b"): filepath.Join(rroot, "real", "b"),
		"/": "/",
	} {
		if got := resolvePath(in); got != want {
			t.Errorf("resolvePath(%q) = %q, want %q", in, got, want)
		}
	}
	t.Chdir(root)
	if got, want := resolvePath("link/a"), filepath.Join(rroot, "real", "a"); got != want {
		t.Errorf("resolvePath of a relative path = %q, want %q", got, want)
	}
}
