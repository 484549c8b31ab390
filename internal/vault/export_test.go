package vault_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/file"
	"github.com/cairn-backup/cairn/internal/blob/mem"
	"github.com/cairn-backup/cairn/internal/vault"
)

// readJSON reads a JSON object stored at key.
func readJSON(t *testing.T, s blob.Store, key string) map[string]any {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var v map[string]any
	if err := json.NewDecoder(rc).Decode(&v); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v
}

// manifestLines reads manifest-files.json of point id.
func manifestLines(t *testing.T, s blob.Store, id string) []map[string]any {
	t.Helper()
	rc, err := s.Get(context.Background(), vault.FilesManifestKey(id))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var lines []map[string]any
	dec := json.NewDecoder(rc)
	for dec.More() {
		var l map[string]any
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines
}

// In a vault under a prefix of a bucket, the manifests name the bucket, the
// prefix and full bucket keys, as DynamoDB's export does; a reader that
// follows them from the bucket's root finds every file. The ETag of a file
// uploaded in parts is the store's, not its MD5.
func TestExportKeysInPrefixedBucket(t *testing.T) {
	const part = 64 << 10
	loc := blob.Location{Bucket: "backups", Prefix: "team/cairn"}
	store := mem.NewWith(mem.Options{Location: loc, PartSize: part})
	v := vault.New(store)
	id := "01234567890123-a1b2c3d4"
	// Uncompressed and large enough that some files go up in parts.
	writePoint(t, v, id, vault.WriterOptions{Compression: vault.None, MaxFileBytes: 200 << 10}, 2, 1000)

	// A bucket's view: the full key is the store's key after the prefix.
	bucketGet := func(key string) []byte {
		t.Helper()
		rel, ok := strings.CutPrefix(key, loc.Prefix+"/")
		if !ok {
			t.Fatalf("key %q is not under the vault's prefix %q", key, loc.Prefix)
		}
		rc, err := store.Get(context.Background(), rel)
		if err != nil {
			t.Fatalf("a reader following the manifests gets %s: %v", key, err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}
	summary := readJSON(t, store, vault.SummaryKey(id))
	for field, want := range map[string]any{
		"s3Bucket": "backups", "s3Prefix": "team/cairn",
		"manifestFilesS3Key": "team/cairn/AWSDynamoDB/" + id + "/manifest-files.json",
	} {
		if summary[field] != want {
			t.Errorf("summary %s = %v, want %v", field, summary[field], want)
		}
	}
	bucketGet(summary["manifestFilesS3Key"].(string))
	multipart := 0
	for _, l := range manifestLines(t, store, id) {
		key := l["dataFileS3Key"].(string)
		data := bucketGet(key)
		sum := md5.Sum(data)
		if l["md5Checksum"] != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: md5Checksum %v is not the file's MD5", key, l["md5Checksum"])
		}
		etag, err := store.ETag(context.Background(), strings.TrimPrefix(key, loc.Prefix+"/"))
		if err != nil {
			t.Fatal(err)
		}
		if l["etag"] != etag {
			t.Errorf("%s: etag %v, the store serves %s", key, l["etag"], etag)
		}
		if len(data) > part {
			multipart++
			if !strings.HasSuffix(etag, "-"+string(rune('0'+(len(data)+part-1)/part))) {
				t.Errorf("%s: %d bytes, etag %s: want a multipart ETag", key, len(data), etag)
			}
		} else if etag != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: single-part etag %s is not the MD5", key, etag)
		}
	}
	if multipart == 0 {
		t.Fatal("no data file went up in parts; the test proves nothing")
	}
	if err := v.Verify(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

// A vault on local disk has no bucket: keys are paths under the vault's
// directory (as if it were a bucket), and s3Bucket and s3Prefix are null.
func TestExportKeysOnLocalDisk(t *testing.T) {
	dir := t.TempDir()
	store, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	id := "p"
	writePoint(t, vault.New(store), id, vault.WriterOptions{Compression: vault.Gzip}, 1, 10)
	summary := readJSON(t, store, vault.SummaryKey(id))
	for _, field := range []string{"s3Bucket", "s3Prefix"} {
		if v, ok := summary[field]; !ok || v != nil {
			t.Errorf("summary %s = %v (present %t), want null", field, v, ok)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, summary["manifestFilesS3Key"].(string))); err != nil {
		t.Error(err)
	}
	for _, l := range manifestLines(t, store, id) {
		if _, err := os.Stat(filepath.Join(dir, l["dataFileS3Key"].(string))); err != nil {
			t.Error(err)
		}
	}
}

// Gzip files carry 0 as their header time ("no time stamp"), not the time
// the library makes of a zero time.Time (2042-07-14).
func TestGzipHeaderTime(t *testing.T) {
	store := mem.New()
	v := vault.New(store)
	for i, opts := range []vault.WriterOptions{{Compression: vault.Gzip}, {Compression: vault.Gzip, Level: 6}} {
		id := "p" + string(rune('0'+i))
		for round := range 2 { // the second round reuses pooled encoders
			id := id + string(rune('a'+round))
			writePoint(t, v, id, opts, 2, 50)
			r, err := v.Open(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			for _, fe := range r.Files() {
				rc, _ := store.Get(context.Background(), fe.DataFileS3Key)
				head := make([]byte, 10)
				io.ReadFull(rc, head)
				rc.Close()
				if mtime := binary.LittleEndian.Uint32(head[4:8]); mtime != 0 {
					t.Errorf("%s: gzip header time %d (%s), want 0", fe.DataFileS3Key, mtime, time.Unix(int64(mtime), 0).UTC())
				}
				zr, err := gzip.NewReader(bytes.NewReader(objects(t, store, fe.DataFileS3Key)[fe.DataFileS3Key]))
				if err != nil || !zr.ModTime.IsZero() {
					t.Errorf("%s: Go's gzip reads time %v, %v; want none", fe.DataFileS3Key, zr.ModTime, err)
				}
			}
		}
	}
}

// An empty table gives a point with one empty data file, as DynamoDB's
// export of an empty table has: a valid, empty compressed stream.
func TestEmptyTableHasEmptyDataFile(t *testing.T) {
	ctx := context.Background()
	for _, c := range []vault.Compression{vault.Zstd, vault.Gzip, vault.None} {
		t.Run(string(c), func(t *testing.T) {
			store := mem.New()
			v := vault.New(store)
			w, err := v.Create(ctx, "empty", vault.WriterOptions{Compression: c})
			if err != nil {
				t.Fatal(err)
			}
			// Segments that read nothing.
			for range 3 {
				if err := w.NewFile().Close(); err != nil {
					t.Fatal(err)
				}
			}
			zero := int64(0)
			m, err := w.Commit(ctx, vault.CommitInfo{ExpectedItemCount: &zero})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Files) != 1 || m.Files[0].ItemCount != 0 || m.Summary.Cairn.DataFileCount != 1 || m.Summary.ItemCount != 0 {
				t.Fatalf("empty point: %+v", m)
			}
			if err := v.Verify(ctx, "empty"); err != nil {
				t.Fatal(err)
			}
			got := readPoint(t, v, "empty")
			if len(got) != 0 {
				t.Fatalf("read %d items", len(got))
			}
			data := objects(t, store, m.Files[0].DataFileS3Key)[m.Files[0].DataFileS3Key]
			if c == vault.Gzip {
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if b, err := io.ReadAll(zr); err != nil || len(b) != 0 {
					t.Fatalf("empty gzip file holds %q, %v", b, err)
				}
			}
		})
	}
}

// The summary says what the point is: a scan between two times, not a
// snapshot. exportTime is the scan's start.
func TestScanBounds(t *testing.T) {
	store := mem.New()
	writePoint(t, vault.New(store), "p", vault.WriterOptions{}, 1, 5)
	s := readJSON(t, store, vault.SummaryKey("p"))
	c := s["cairn"].(map[string]any)
	for field, want := range map[string]any{
		"startTime": "2026-01-02T03:04:05.006Z", "endTime": "2026-01-02T03:05:05.006Z",
		"exportTime": "2026-01-02T03:04:06.006Z",
	} {
		if s[field] != want {
			t.Errorf("summary %s = %v, want %v", field, s[field], want)
		}
	}
	for field, want := range map[string]any{
		"consistency": "SCAN", "scanStartTime": "2026-01-02T03:04:06.006Z", "scanEndTime": "2026-01-02T03:04:55.006Z",
		"formatVersion": 2.0,
	} {
		if c[field] != want {
			t.Errorf("summary cairn.%s = %v, want %v", field, c[field], want)
		}
	}
}

// putDir stores every file under dir in s, keyed by its path.
func putDir(t *testing.T, s blob.Store, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return s.Put(context.Background(), filepath.ToSlash(rel), f)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Points written by cairn before format version 2 (testdata/v1, made by
// the previous release) still open, read and verify, and a copy of one
// into a prefixed bucket gets version 2 manifests with full keys.
func TestReadsFormatVersion1(t *testing.T) {
	ctx := context.Background()
	src := mem.New()
	putDir(t, src, "testdata/v1")
	v := vault.New(src)
	r, err := v.Open(ctx, "v1-point")
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary().Cairn.FormatVersion != 1 || r.ContentChecksum() != "sum-v1" {
		t.Fatalf("summary %+v", r.Summary())
	}
	if got := readPoint(t, v, "v1-point"); len(got) != 3 || !got[`{"pk":{"S":"item-1"},"n":{"N":"1"}}`] {
		t.Fatalf("items %v", got)
	}
	if err := v.Verify(ctx, "v1-point"); err != nil {
		t.Fatal(err)
	}
	dstStore := mem.NewWith(mem.Options{Location: blob.Location{Bucket: "b", Prefix: "x"}})
	dst := vault.New(dstStore)
	if _, err := vault.Copy(ctx, v, "v1-point", dst, "v1-point", vault.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	s := readJSON(t, dstStore, vault.SummaryKey("v1-point"))
	if s["manifestFilesS3Key"] != "x/AWSDynamoDB/v1-point/manifest-files.json" || s["cairn"].(map[string]any)["formatVersion"] != 2.0 {
		t.Fatalf("copy's summary: %v", s)
	}
	if got := readPoint(t, dst, "v1-point"); len(got) != 3 {
		t.Fatalf("copy holds %d items", len(got))
	}
}

// A point's recorded location may differ from where its store is now (its
// files were moved under another prefix): cairn still reads it by the
// recorded keys.
func TestReadsPointMovedToAnotherPrefix(t *testing.T) {
	ctx := context.Background()
	a := mem.NewWith(mem.Options{Location: blob.Location{Bucket: "b", Prefix: "old"}})
	writePoint(t, vault.New(a), "p", vault.WriterOptions{MaxFileBytes: 8 << 10}, 2, 50)
	b := mem.NewWith(mem.Options{Location: blob.Location{Bucket: "b2", Prefix: "new/place"}})
	for k, data := range objects(t, a, "") {
		b.Put(ctx, k, bytes.NewReader(data))
	}
	v := vault.New(b)
	if err := v.Verify(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	r, err := v.Open(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if loc := r.Summary().Location(); loc != (blob.Location{Bucket: "b", Prefix: "old"}) {
		t.Fatalf("recorded location %+v", loc)
	}
}

// Open checks every manifest against what records it, and says which file
// does not check out.
func TestOpenChecksEveryManifest(t *testing.T) {
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
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x01; return b }
	}
	for _, c := range []struct {
		name, key string
		fn        func([]byte) []byte
		names     []string // the error names these files
	}{
		{"summary checksum", vault.SummaryChecksumKey("p"), flip(5), []string{"manifest-summary.checksum"}},
		{"summary checksum emptied", vault.SummaryChecksumKey("p"), func([]byte) []byte { return nil }, []string{"manifest-summary.checksum"}},
		{"files checksum", vault.FilesChecksumKey("p"), flip(31), []string{"manifest-files.checksum"}},
		{"summary exportArn", vault.SummaryKey("p"), flipAt(`"exportArn": "arn:aws:dynamo`), []string{"manifest-summary.json"}},
		{"summary table id", vault.SummaryKey("p"), flipAt(`"tableId": "ti`), []string{"manifest-summary.json"}},
		{"summary startTime", vault.SummaryKey("p"), flipAt(`"startTime": "2026-01-0`), []string{"manifest-summary.json"}},
		{"manifest-files etag", vault.FilesManifestKey("p"), flipAt(`"etag":"`), []string{"manifest-files.json"}},
		{"metadata", vault.MetadataKey("p"), flipAt(`"TableNa`), []string{"cairn-metadata.json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := mem.New()
			v := vault.New(store)
			writePoint(t, v, "p", vault.WriterOptions{}, 1, 5)
			if !store.Corrupt(c.key, c.fn) {
				t.Fatalf("no %s", c.key)
			}
			_, err := v.Open(ctx, "p")
			if !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			for _, n := range c.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("error %q does not name %s", err, n)
				}
			}
		})
	}
	t.Run("checksum file missing", func(t *testing.T) {
		store := mem.New()
		v := vault.New(store)
		writePoint(t, v, "p", vault.WriterOptions{}, 1, 5)
		store.Delete(ctx, vault.FilesChecksumKey("p"))
		if _, err := v.Open(ctx, "p"); !errors.Is(err, vault.ErrCorrupt) || !strings.Contains(err.Error(), "manifest-files.checksum is missing") {
			t.Fatalf("Open = %v", err)
		}
	})
}
