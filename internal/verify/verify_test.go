package verify_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/vault"
	"github.com/cairn-backup/cairn/internal/verify"
)

// writePoint writes a point of n items into v, as a backup would, and
// returns the catalog's record of it.
func writePoint(t *testing.T, v *vault.Vault, id string, n int) *backup.RecoveryPoint {
	t.Helper()
	ctx := context.Background()
	w, err := v.Create(ctx, id, vault.WriterOptions{Compression: vault.Gzip, MaxFileBytes: 2 << 10})
	if err != nil {
		t.Fatal(err)
	}
	var sum ddbjson.Checksum
	fw := w.NewFile()
	for i := range n {
		item := fmt.Appendf(nil, `{"pk":{"S":"item-%04d"},"n":{"N":"%d"},"pad":{"S":"%s"}}`, i, i, strings.Repeat("x", i%50))
		if err := sum.Add(item); err != nil {
			t.Fatal(err)
		}
		if err := fw.WriteItem(item); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, vault.CommitInfo{TableARN: "arn:aws:dynamodb:us-east-1:000000000000:table/T",
		Metadata: []byte(`{"Table":"T"}`), ContentChecksum: sum.Sum()}); err != nil {
		t.Fatal(err)
	}
	return &backup.RecoveryPoint{ID: id, ARN: backup.RecoveryPointARN("us-east-1", "000000000000", id), VaultName: "V",
		Status: backup.RecoveryPointCompleted, StorageClass: backup.StorageWarm, ItemCount: int64(n), ContentChecksum: sum.Sum()}
}

func noProblems(t *testing.T, what string, problems []backup.VerifyFinding) {
	t.Helper()
	for _, p := range problems {
		t.Errorf("%s: problem: %+v", what, p)
	}
}

func s3Like() *mem.Store {
	return mem.NewWith(mem.Options{Location: blob.Location{Bucket: "bkt", Prefix: "vaults/v"}, PartSize: 5 << 20})
}

func TestCleanPointVerifies(t *testing.T) {
	v := vault.New(s3Like())
	rp := writePoint(t, v, "p", 300)
	for _, readData := range []bool{false, true} {
		c := verify.Point(context.Background(), v, rp, readData)
		noProblems(t, fmt.Sprint("readData ", readData), c.Problems)
		if c.Files < 7 || c.Bytes == 0 {
			t.Errorf("checked %d files, %d bytes", c.Files, c.Bytes)
		}
		if readData && c.Items != 300 {
			t.Errorf("read %d items, want 300", c.Items)
		}
	}
}

// A flipped byte in any file of a point is a problem that names the file.
func TestFlippedByteInEveryKindOfFile(t *testing.T) {
	ctx := context.Background()
	flipAt := func(sub string) func([]byte) []byte {
		return func(b []byte) []byte {
			i := bytes.Index(b, []byte(sub))
			if i < 0 {
				panic("no " + sub)
			}
			b[i+len(sub)-1] ^= 0x01
			return b
		}
	}
	flipMiddle := func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }
	for _, c := range []struct {
		name string
		key  func(m []vault.FileEntry) string
		fn   func([]byte) []byte
		file string // the message names it
	}{
		{"manifest-summary.checksum", constKey(vault.SummaryChecksumKey("p")), flipMiddle, "manifest-summary.checksum"},
		{"manifest-files.checksum", constKey(vault.FilesChecksumKey("p")), flipMiddle, "manifest-files.checksum"},
		{"manifest-summary.json exportArn", constKey(vault.SummaryKey("p")), flipAt(`"exportArn": "arn:aws:dyn`), "manifest-summary.json"},
		{"manifest-summary.json itemCount", constKey(vault.SummaryKey("p")), flipAt(`"itemCount": 3`), "manifest-summary.json"},
		{"manifest-files.json", constKey(vault.FilesManifestKey("p")), flipAt(`"md5Checksum":"`), "manifest-files.json"},
		{"cairn-metadata.json", constKey(vault.MetadataKey("p")), flipAt(`"Tab`), "cairn-metadata.json"},
		{"data file", func(fs []vault.FileEntry) string { return strings.TrimPrefix(fs[1].DataFileS3Key, "vaults/v/") }, flipMiddle, "/data/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := s3Like()
			v := vault.New(store)
			rp := writePoint(t, v, "p", 300)
			r, err := v.Open(ctx, "p")
			if err != nil {
				t.Fatal(err)
			}
			key := c.key(r.Files())
			if !store.Corrupt(key, c.fn) {
				t.Fatalf("no object %s", key)
			}
			for _, readData := range []bool{false, true} {
				pc := verify.Point(ctx, v, rp, readData)
				if len(pc.Problems) == 0 {
					t.Fatalf("readData %t: flipped byte in %s not detected", readData, key)
				}
				msg := pc.Problems[0].Message + " " + pc.Problems[0].File
				if !strings.Contains(msg, c.file) {
					t.Errorf("readData %t: problem %q does not name %s", readData, msg, c.file)
				}
			}
		})
	}
}

func constKey(k string) func([]vault.FileEntry) string {
	return func([]vault.FileEntry) string { return k }
}

// A file under the point's prefix that the manifests do not list, and a
// missing data file, are problems.
func TestStrayAndMissingFiles(t *testing.T) {
	ctx := context.Background()
	store := s3Like()
	v := vault.New(store)
	rp := writePoint(t, v, "p", 100)
	stray := vault.DataFileKey("p", "zzzz.json.gz")
	store.Put(ctx, stray, strings.NewReader("not listed"))
	c := verify.Point(ctx, v, rp, false)
	if len(c.Problems) != 1 || c.Problems[0].File != "vaults/v/"+stray || !strings.Contains(c.Problems[0].Message, "does not list it") {
		t.Fatalf("problems %+v", c.Problems)
	}
	store.Delete(ctx, stray)
	// The point's record is no stray: it changes after the point is made.
	if err := v.PutPointRecord(ctx, "p", []byte(`{"status":"COMPLETED"}`)); err != nil {
		t.Fatal(err)
	}
	noProblems(t, "with a point record", verify.Point(ctx, v, rp, false).Problems)
	r, _ := v.Open(ctx, "p")
	gone := r.Files()[0].DataFileS3Key
	store.Delete(ctx, strings.TrimPrefix(gone, "vaults/v/"))
	c = verify.Point(ctx, v, rp, false)
	if len(c.Problems) != 1 || c.Problems[0].File != gone || !strings.Contains(c.Problems[0].Message, "missing") {
		t.Fatalf("problems %+v", c.Problems)
	}
}

// With readData, items that do not add up to the recorded content checksum
// are a problem even when every file matches its manifest; the catalog
// disagreeing with the point is one without.
func TestContentChecksumRecomputed(t *testing.T) {
	ctx := context.Background()
	v := vault.New(mem.New())
	rp := writePoint(t, v, "p", 50)
	// Point q's files are consistent, but the content checksum it records
	// is p's, not that of its one item.
	w, _ := v.Create(ctx, "q", vault.WriterOptions{})
	fw := w.NewFile()
	fw.WriteItem([]byte(`{"pk":{"S":"other"}}`))
	fw.Close()
	if _, err := w.Commit(ctx, vault.CommitInfo{ContentChecksum: rp.ContentChecksum}); err != nil {
		t.Fatal(err)
	}
	other := &backup.RecoveryPoint{ID: "q", ARN: "arn:q", Status: backup.RecoveryPointCompleted, ItemCount: 1, ContentChecksum: rp.ContentChecksum}
	noProblems(t, "without readData", verify.Point(ctx, v, other, false).Problems)
	c := verify.Point(ctx, v, other, true)
	if len(c.Problems) != 1 || !strings.Contains(c.Problems[0].Message, "content checksum of the items read") {
		t.Fatalf("problems %+v", c.Problems)
	}
	rp.ItemCount = 49
	c = verify.Point(ctx, v, rp, false)
	if len(c.Problems) != 1 || !strings.Contains(c.Problems[0].Message, "the catalog 49") {
		t.Fatalf("problems %+v", c.Problems)
	}
}

// The catalog and the storage disagree both ways: a point the catalog lists
// that the storage lacks, a complete point the storage holds that the
// catalog lacks. Litter and points being written are notes or nothing.
func TestAgreement(t *testing.T) {
	ctx := context.Background()
	warmStore, coldStore := mem.New(), mem.New()
	warm, cold := vault.New(warmStore), vault.New(coldStore)
	good := writePoint(t, warm, "good", 10)
	lost := writePoint(t, warm, "lost", 10) // its files are deleted below
	orphan := writePoint(t, warm, "orphan", 10)
	coldOne := writePoint(t, cold, "cold-one", 10)
	coldOne.StorageClass = backup.StorageCold
	creating := &backup.RecoveryPoint{ID: "creating", ARN: "arn:creating", Status: backup.RecoveryPointCreating}
	if _, err := warm.Create(ctx, "creating", vault.WriterOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Create(ctx, "litter", vault.WriterOptions{}); err != nil {
		t.Fatal(err)
	}
	warm.Delete(ctx, "lost")
	points := []*backup.RecoveryPoint{good, lost, coldOne, creating}
	byID := map[string]*backup.RecoveryPoint{}
	for _, p := range points {
		byID[p.ID] = p
	}
	lookup := func(_ context.Context, id string) (*backup.RecoveryPoint, error) {
		if p, ok := byID[id]; ok {
			return p, nil
		}
		return nil, backup.NotFound("RecoveryPoint", id)
	}
	c := verify.Agreement(ctx, "V", points, verify.Storage{Warm: warm, Cold: cold}, lookup)
	if c.CatalogPoints != 4 || c.StoredPoints != 3 {
		t.Errorf("counted %d in the catalog, %d stored", c.CatalogPoints, c.StoredPoints)
	}
	if strings.Join(c.RecoveryPointARNs, " ") != coldOne.ARN+" "+good.ARN {
		t.Errorf("points to check: %v", c.RecoveryPointARNs)
	}
	got := map[string]string{}
	for _, p := range c.Problems {
		got[p.RecoveryPointID] = p.Message
	}
	if len(c.Problems) != 2 || !strings.Contains(got[lost.ID], "the catalog lists the point as COMPLETED") ||
		!strings.Contains(got[orphan.ID], "the catalog does not list") {
		t.Errorf("problems %+v", c.Problems)
	}
	if len(c.Notes) != 1 || c.Notes[0].RecoveryPointID != "litter" {
		t.Errorf("notes %+v", c.Notes)
	}

	// A point recorded while the listing ran is no problem.
	byID[orphan.ID] = orphan
	c = verify.Agreement(ctx, "V", points, verify.Storage{Warm: warm, Cold: cold}, lookup)
	if len(c.Problems) != 1 {
		t.Errorf("problems %+v", c.Problems)
	}
}

// Items a lax source held that DynamoDB's rules refuse are kept by a backup
// with their lax digest: --read-data recomputes the same checksum and only
// notes them.
func TestOutOfSpecItemsVerify(t *testing.T) {
	ctx := context.Background()
	v := vault.New(mem.New())
	items := [][]byte{[]byte(`{"pk":{"S":"ok"}}`), []byte(`{"pk":{"S":"dup"},"ss":{"SS":["a","a"]}}`)}
	var sum ddbjson.Checksum
	w, _ := v.Create(ctx, "p", vault.WriterOptions{})
	fw := w.NewFile()
	for _, it := range items {
		if err := sum.Add(it); err != nil {
			if err := sum.AddOutOfSpec(it); err != nil {
				t.Fatal(err)
			}
		}
		fw.WriteItem(it)
	}
	fw.Close()
	if _, err := w.Commit(ctx, vault.CommitInfo{ContentChecksum: sum.Sum()}); err != nil {
		t.Fatal(err)
	}
	rp := &backup.RecoveryPoint{ID: "p", ARN: "arn:p", Status: backup.RecoveryPointCompleted, ItemCount: 2, ContentChecksum: sum.Sum()}
	c := verify.Point(ctx, v, rp, true)
	noProblems(t, "out-of-spec items", c.Problems)
	if len(c.Notes) != 1 || !strings.Contains(c.Notes[0].Message, "1 items are out of DynamoDB's rules") {
		t.Errorf("notes %+v", c.Notes)
	}
}
