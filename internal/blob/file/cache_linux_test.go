package file_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cairn-backup/cairn/internal/blob/file"
)

// resident returns how many bytes of the file at p are in the page cache.
func resident(t *testing.T, p string) int {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	n := 0
	for _, v := range vec {
		if v&1 != 0 {
			n += page
		}
	}
	return n
}

// diskDir is a directory on a file system with a page cache to drop from:
// the test's temporary directory unless that is a tmpfs (whose pages are
// the files themselves), else one beside the package's sources.
func diskDir(t *testing.T) string {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err == nil && fs.Type == unix.TMPFS_MAGIC {
		d, err := os.MkdirTemp(".", ".test-cache-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	return dir
}

// A large object leaves the page cache once Put has written it (a backup
// would otherwise fill memory with its data files); a small one stays.
func TestPutDropsLargeObjectsFromPageCache(t *testing.T) {
	s, err := file.New(filepath.Join(diskDir(t), "vault"))
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 40<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	ctx := context.Background()
	// In pieces of 100 KB, as the vault's uploads hand them over.
	if err := s.Put(ctx, "data/big", &chunkReader{b: big, n: 100 << 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "small", bytes.NewReader(big[:64<<10])); err != nil {
		t.Fatal(err)
	}
	if n := resident(t, filepath.Join(s.Root(), "data", "big")); n > 1<<20 {
		t.Errorf("%d of %d bytes of the big object are still in the page cache", n, len(big))
	}
	if n := resident(t, filepath.Join(s.Root(), "small")); n != 64<<10 {
		t.Errorf("%d of %d bytes of the small object are in the page cache, want all", n, 64<<10)
	}
	rc, err := s.Get(ctx, "data/big")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), big) {
		t.Fatal("the big object reads back different")
	}
}

// chunkReader returns b in reads of at most n bytes.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[k:]
	return k, nil
}
