// Package file is a blob.Store in a directory on local disk. A key maps to
// the file at the same slash-separated path under the root directory.
//
// Put streams into a temporary file in the object's directory, fsyncs it,
// renames it over the key and fsyncs the directory, so an object is visible
// only once complete and survives a crash once Put returns. Temporary files
// are named ".cairn-tmp-*"; List never shows them and keys whose last
// segment starts with that prefix are rejected. A crash can leave temporary
// files behind; RemoveTemp deletes them.
//
// Because keys are paths, a key cannot also be a "directory" of other keys
// ("a/b" and "a/b/c" cannot both exist); cairn's layouts never need that.
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/cairn-backup/cairn/internal/blob"
)

// tempPrefix starts the names of files being written.
const tempPrefix = ".cairn-tmp-"

// Store is a blob.Store rooted at a local directory.
type Store struct {
	root string
}

var (
	_ blob.Store         = (*Store)(nil)
	_ blob.ReceiptPutter = (*Store)(nil)
)

// New returns a store rooted at dir, creating it if needed.
func New(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("file: root %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("file: create root: %w", err)
	}
	return &Store{root: abs}, nil
}

// Root returns the absolute path of the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) path(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	if strings.HasPrefix(path.Base(key), tempPrefix) {
		return "", fmt.Errorf("%w: %q: names starting with %q are reserved", blob.ErrInvalidKey, key, tempPrefix)
	}
	return filepath.Join(s.root, filepath.FromSlash(key)), nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	return s.put(ctx, key, r)
}

// PutReceipt implements blob.ReceiptPutter. A file has no ETag of its own:
// the Receipt's is the one S3 gives the same bytes sent in one PutObject.
func (s *Store) PutReceipt(ctx context.Context, key string, r io.Reader) (blob.Receipt, error) {
	h := blob.NewHashingReader(r)
	if err := s.put(ctx, key, h); err != nil {
		return blob.Receipt{}, err
	}
	return h.Receipt(), nil
}

func (s *Store) put(ctx context.Context, key string, r io.Reader) (err error) {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("file: put %s: %w", key, err)
	}
	dir := filepath.Dir(p)
	f, err := s.createTemp(dir)
	if err != nil {
		return fmt.Errorf("file: put %s: %w", key, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			// A failed Put leaves no directory it made behind either.
			s.removeEmptyParents(dir)
			err = fmt.Errorf("file: put %s: %w", key, err)
		}
	}()
	if _, err = copyCtx(ctx, f, r); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = ctx.Err(); err != nil {
		return err
	}
	if err = os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(dir)
}

// createTemp creates a temporary file in dir, creating dir first. A
// concurrent Delete may remove an empty dir between the two, so it retries.
func (s *Store) createTemp(dir string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(dir, tempPrefix+"*")
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 5 {
			return f, err
		}
	}
}

// copyCtx copies r to w in chunks, stopping when ctx is done.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if _, err := w.Write(buf[:m]); err != nil {
				return n, err
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, mapErr(key, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("file: %s: %w", key, blob.ErrNotFound)
	}
	return f, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	p, err := s.path(key)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return blob.Info{}, mapErr(key, err)
	}
	if !fi.Mode().IsRegular() {
		return blob.Info{}, fmt.Errorf("file: %s: %w", key, blob.ErrNotFound)
	}
	return blob.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

func mapErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("file: %s: %w", key, blob.ErrNotFound)
	}
	return fmt.Errorf("file: %s: %w", key, err)
}

// List implements blob.Store. It walks only the directory that holds every
// key with prefix, collects the matching keys and calls fn in key order
// (a directory walk alone is not in key order: "a.c" < "a/b").
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	base := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	start := s.root
	if base != "" {
		if !blob.ValidKey(base) {
			return nil // no valid key can have this prefix
		}
		start = filepath.Join(s.root, filepath.FromSlash(base))
	}
	var infos []blob.Info
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed under us, or start is missing
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if p == start {
				return nil
			}
			// Skip directories that cannot hold a key with prefix.
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tempPrefix) || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		infos = append(infos, blob.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("file: list %q: %w", prefix, err)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Key < infos[j].Key })
	for _, i := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(i); err != nil {
			return err
		}
	}
	return nil
}

// Delete implements blob.Store. It also removes the parent directories the
// deletion leaves empty, up to the root.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file: delete %s: %w", key, err)
	}
	s.removeEmptyParents(filepath.Dir(p))
	return nil
}

// removeEmptyParents removes dir and its parents up to the root, as long as
// they are empty. A Put racing with it retries (createTemp).
func (s *Store) removeEmptyParents(dir string) {
	for ; dir != s.root && strings.HasPrefix(dir, s.root+string(filepath.Separator)); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty (or gone): stop climbing
		}
	}
}

// RemoveTemp deletes temporary files a crashed Put left behind, then every
// empty directory under the root: directories exist only to hold keys, so
// one that holds none (left by a crash, or by a Delete that could not
// remove a directory holding a temporary file) is litter. Call it only
// when no Put is running.
func (s *Store) RemoveTemp(ctx context.Context) error {
	var dirs []string
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != s.root {
				dirs = append(dirs, p)
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// WalkDir visits a directory before what it holds: backwards, every
	// directory comes after its subdirectories.
	// Removing a directory that is not empty fails, and leaves it.
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
	return nil
}
