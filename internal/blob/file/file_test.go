package file_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/blob/blobtest"
	"github.com/cairn-backup/cairn/internal/blob/file"
)

func newStore(t *testing.T) *file.Store {
	t.Helper()
	s, err := file.New(filepath.Join(t.TempDir(), "vault"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

// walk returns every file and directory under root, relative.
func walk(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel)
		return nil
	})
	return out
}

func TestNoTempFilesLeft(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.Put(ctx, "a/b", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a/c", io.MultiReader(strings.NewReader("x"), errReader{})); err == nil {
		t.Fatal("want error")
	}
	if got := walk(t, s.Root()); strings.Join(got, ",") != ".,a,a/b" {
		t.Fatalf("files: %q", got)
	}
	// Delete removes the directories it empties, not the root.
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if got := walk(t, s.Root()); strings.Join(got, ",") != "." {
		t.Fatalf("files after delete: %q", got)
	}
}

func TestReservedNames(t *testing.T) {
	s := newStore(t)
	err := s.Put(context.Background(), "a/.cairn-tmp-1", strings.NewReader("x"))
	if !errors.Is(err, blob.ErrInvalidKey) {
		t.Fatalf("Put of a reserved name: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

// TestFullDisk runs a Put in a child process whose file size limit is 1 MiB
// (RLIMIT_FSIZE; Go ignores SIGXFSZ, so writes fail with EFBIG the way they
// fail with ENOSPC on a full disk) and checks that the Put fails and leaves
// neither the object nor a temporary file.
func TestFullDisk(t *testing.T) {
	if dir := os.Getenv("CAIRN_FILE_FULLDISK_DIR"); dir != "" {
		lim := &syscall.Rlimit{Cur: 1 << 20, Max: 1 << 20}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, lim); err != nil {
			t.Fatal(err)
		}
		s, err := file.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Put(context.Background(), "big/object", io.LimitReader(blobtest.NewGenerator(1), 4<<20))
		if err == nil {
			t.Fatal("Put past the file size limit succeeded")
		}
		t.Logf("Put error: %v", err)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFullDisk$", "-test.v")
	cmd.Env = append(os.Environ(), "CAIRN_FILE_FULLDISK_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("file too large")) {
		t.Errorf("child did not fail with EFBIG:\n%s", out)
	}
	// Not even the directory the Put made for the object.
	for _, f := range walk(t, dir) {
		if f != "." {
			t.Errorf("left behind: %s", f)
		}
	}
}

// A crash leaves temporary files, and a Delete of a point whose data
// directory still held one could not remove that directory. RemoveTemp
// removes both the files and every directory they leave empty, and
// nothing else.
func TestRemoveTempRemovesEmptyDirectories(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if err := s.Put(ctx, "AWSDynamoDB/keep/data/f", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"AWSDynamoDB/gone/data", "AWSDynamoDB/keep/empty/deeper"} {
		if err := os.MkdirAll(filepath.Join(s.Root(), d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(s.Root(), "AWSDynamoDB/gone/data/.cairn-tmp-123")
	if err := os.WriteFile(tmp, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveTemp(ctx); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(walk(t, s.Root()), ",")
	if got != ".,AWSDynamoDB,AWSDynamoDB/keep,AWSDynamoDB/keep/data,AWSDynamoDB/keep/data/f" {
		t.Fatalf("after RemoveTemp: %s", got)
	}
}
