// Package mem is an in-memory blob.Store for tests. Unlike the other stores
// it holds every object in memory, including while a Put is in progress.
// With Options it stands in for an S3 store: it reports a bucket and prefix
// (blob.Locator) and the ETags S3 gives objects uploaded in parts.
package mem

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/blob"
)

type object struct {
	data    []byte
	modTime time.Time
	class   string // "" is blob.StandardClass
	etag    string
}

// Options make a store behave like an S3 store in the ways the layers
// above can see.
type Options struct {
	// Location is what Location reports; zero means the store is no
	// Locator's stand-in (Location still returns it).
	Location blob.Location
	// PartSize, if positive, makes ETags those of an S3 store uploading in
	// parts of this size (as internal/blob/s3 does): objects larger than
	// PartSize get a multipart ETag ("HEX-N"). Zero gives every object the
	// single-part ETag, its hex MD5.
	PartSize int64
}

// Store is an in-memory blob.Store, safe for concurrent use. The zero value
// is not usable; call New.
type Store struct {
	opts     Options
	mu       sync.RWMutex
	objects  map[string]object
	now      func() time.Time
	archived map[string]bool // classes Get refuses
}

var (
	_ blob.Store         = (*Store)(nil)
	_ blob.ClassSetter   = (*Store)(nil)
	_ blob.ReceiptPutter = (*Store)(nil)
	_ blob.Locator       = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return NewWith(Options{})
}

// NewWith returns an empty store with opts.
func NewWith(opts Options) *Store {
	return &Store{opts: opts, objects: make(map[string]object), now: time.Now}
}

// Location implements blob.Locator: Options.Location.
func (s *Store) Location() blob.Location { return s.opts.Location }

// Put implements blob.Store. The object appears only once r is read to its
// end without error and ctx is still live.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	_, err := s.PutReceipt(ctx, key, r)
	return err
}

// PutReceipt implements blob.ReceiptPutter.
func (s *Store) PutReceipt(ctx context.Context, key string, r io.Reader) (blob.Receipt, error) {
	if err := blob.CheckKey(key); err != nil {
		return blob.Receipt{}, err
	}
	var buf bytes.Buffer
	chunk := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return blob.Receipt{}, fmt.Errorf("mem: put %s: %w", key, err)
		}
		n, err := r.Read(chunk)
		buf.Write(chunk[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return blob.Receipt{}, fmt.Errorf("mem: put %s: %w", key, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return blob.Receipt{}, fmt.Errorf("mem: put %s: %w", key, err)
	}
	data := buf.Bytes()
	sum := md5.Sum(data)
	rc := blob.Receipt{Size: int64(len(data)), MD5: hex.EncodeToString(sum[:]), ETag: s.etag(data)}
	s.mu.Lock()
	s.objects[key] = object{data: data, modTime: s.now(), etag: rc.ETag}
	s.mu.Unlock()
	return rc, nil
}

// etag is the ETag an S3 store with the store's PartSize gets for data.
func (s *Store) etag(data []byte) string {
	ps := s.opts.PartSize
	if ps <= 0 || int64(len(data)) <= ps {
		sum := md5.Sum(data)
		return hex.EncodeToString(sum[:])
	}
	var parts [][]byte
	for off := int64(0); off < int64(len(data)); off += ps {
		sum := md5.Sum(data[off:min(off+ps, int64(len(data)))])
		parts = append(parts, sum[:])
	}
	return blob.MultipartETag(parts)
}

// ETag returns the ETag of the object at key, as a HEAD would; ErrNotFound
// if absent.
func (s *Store) ETag(ctx context.Context, key string) (string, error) {
	o, err := s.get(ctx, key)
	if err != nil {
		return "", err
	}
	return o.etag, nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	o, err := s.get(ctx, key)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	archived := s.archived[o.class]
	s.mu.RUnlock()
	if archived {
		return nil, fmt.Errorf("mem: get %s (class %s): %w", key, o.class, blob.ErrArchived)
	}
	return io.NopCloser(bytes.NewReader(o.data)), nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	o, err := s.get(ctx, key)
	if err != nil {
		return blob.Info{}, err
	}
	return blob.Info{Key: key, Size: int64(len(o.data)), ModTime: o.modTime}, nil
}

func (s *Store) get(ctx context.Context, key string) (object, error) {
	if err := blob.CheckKey(key); err != nil {
		return object{}, err
	}
	if err := ctx.Err(); err != nil {
		return object{}, err
	}
	s.mu.RLock()
	o, ok := s.objects[key]
	s.mu.RUnlock()
	if !ok {
		return object{}, fmt.Errorf("mem: %s: %w", key, blob.ErrNotFound)
	}
	return o, nil
}

// List implements blob.Store. It lists a snapshot taken when called.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	var infos []blob.Info
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) {
			infos = append(infos, blob.Info{Key: k, Size: int64(len(o.data)), ModTime: o.modTime})
		}
	}
	s.mu.RUnlock()
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

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.objects, key)
	s.mu.Unlock()
	return nil
}

// Corrupt replaces the bytes of the object at key with those fn returns, for
// tests that damage a stored object. It reports whether key existed.
func (s *Store) Corrupt(key string, fn func([]byte) []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return false
	}
	o.data = fn(bytes.Clone(o.data)) // the ETag stays, as S3's metadata would
	s.objects[key] = o
	return true
}

// SetClass implements blob.ClassSetter: it records the object's class.
func (s *Store) SetClass(ctx context.Context, key, class string) error {
	if _, err := s.get(ctx, key); err != nil {
		return err
	}
	if class == "" {
		return fmt.Errorf("mem: set class of %s: no storage class given", key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return fmt.Errorf("mem: %s: %w", key, blob.ErrNotFound)
	}
	if class == blob.StandardClass {
		class = ""
	}
	o.class = class
	s.objects[key] = o
	return nil
}

// ClassInfo implements blob.ClassSetter.
func (s *Store) ClassInfo(ctx context.Context, key string) (blob.ClassInfo, error) {
	o, err := s.get(ctx, key)
	if err != nil {
		return blob.ClassInfo{}, err
	}
	sum := md5.Sum(o.data)
	ci := blob.ClassInfo{Size: int64(len(o.data)), Class: o.class, MD5: hex.EncodeToString(sum[:])}
	if ci.Class == "" {
		ci.Class = blob.StandardClass
	}
	return ci, nil
}

// Archive makes Get fail with blob.ErrArchived for objects in the given
// classes, as S3 does for GLACIER and DEEP_ARCHIVE until an object is
// restored.
func (s *Store) Archive(classes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.archived == nil {
		s.archived = make(map[string]bool)
	}
	for _, c := range classes {
		s.archived[c] = true
	}
}
