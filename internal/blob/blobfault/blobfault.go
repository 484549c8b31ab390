// Package blobfault wraps a blob.Store to inject failures, for tests of the
// code above it: a Put that fails after some bytes (as a full disk or a
// dropped connection would), a Get whose reader breaks, an operation that
// fails outright.
package blobfault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/cairn-backup/cairn/internal/blob"
)

// ErrInjected is the default error of a Rule.
var ErrInjected = errors.New("blobfault: injected failure")

// Op names a blob.Store method.
type Op string

// The operations a Rule can target.
const (
	OpPut    Op = "Put"
	OpGet    Op = "Get"
	OpStat   Op = "Stat"
	OpList   Op = "List"
	OpDelete Op = "Delete"
	// OpSetClass and OpClassInfo are the methods of blob.ClassSetter.
	OpSetClass  Op = "SetClass"
	OpClassInfo Op = "ClassInfo"
)

// Rule says which calls fail and how.
type Rule struct {
	// Op is the method that fails.
	Op Op
	// Prefix restricts the rule to keys (for List: prefixes) starting with
	// it; empty matches all.
	Prefix string
	// AfterBytes, for Put and Get, lets that many bytes through before the
	// stream fails: Put reads them from the caller and then fails the read
	// the inner store sees; Get's reader fails after them. Zero fails the
	// call before it reaches the inner store.
	AfterBytes int64
	// Err is the injected error; default ErrInjected.
	Err error
	// Times is how many calls fail before the rule is spent; 0 means all.
	Times int
}

// Store is a blob.Store that fails as its rules say and otherwise passes
// calls to the inner store.
type Store struct {
	inner blob.Store
	mu    sync.Mutex
	rules []*Rule
	calls map[Op]int
}

var (
	_ blob.Store         = (*Store)(nil)
	_ blob.ClassSetter   = (*Store)(nil)
	_ blob.ReceiptPutter = (*Store)(nil)
	_ blob.Locator       = (*Store)(nil)
)

// New wraps inner.
func New(inner blob.Store) *Store {
	return &Store{inner: inner, calls: make(map[Op]int)}
}

// Add installs a rule. Rules are tried in the order added.
func (s *Store) Add(r Rule) {
	if r.Err == nil {
		r.Err = ErrInjected
	}
	s.mu.Lock()
	s.rules = append(s.rules, &r)
	s.mu.Unlock()
}

// Reset removes every rule.
func (s *Store) Reset() {
	s.mu.Lock()
	s.rules = nil
	s.mu.Unlock()
}

// Calls returns how many times op was called.
func (s *Store) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// match returns the rule that applies to this call, spending one use.
func (s *Store) match(op Op, key string) *Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	for i, r := range s.rules {
		if r.Op != op || !strings.HasPrefix(key, r.Prefix) {
			continue
		}
		if r.Times > 0 {
			r.Times--
			if r.Times == 0 {
				s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
			}
		}
		return r
	}
	return nil
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) error {
	_, err := s.PutReceipt(ctx, key, r)
	return err
}

// PutReceipt implements blob.ReceiptPutter through the inner store (see
// blob.PutWithReceipt); Put's rules apply.
func (s *Store) PutReceipt(ctx context.Context, key string, r io.Reader) (blob.Receipt, error) {
	if rule := s.match(OpPut, key); rule != nil {
		if rule.AfterBytes == 0 {
			return blob.Receipt{}, rule.Err
		}
		r = &failReader{r: r, n: rule.AfterBytes, err: rule.Err}
	}
	return blob.PutWithReceipt(ctx, s.inner, key, r)
}

// Location implements blob.Locator: the inner store's.
func (s *Store) Location() blob.Location { return blob.LocationOf(s.inner) }

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rule := s.match(OpGet, key)
	if rule != nil && rule.AfterBytes == 0 {
		return nil, rule.Err
	}
	rc, err := s.inner.Get(ctx, key)
	if err != nil || rule == nil {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{&failReader{r: rc, n: rule.AfterBytes, err: rule.Err}, rc}, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if rule := s.match(OpStat, key); rule != nil {
		return blob.Info{}, rule.Err
	}
	return s.inner.Stat(ctx, key)
}

// List implements blob.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if rule := s.match(OpList, prefix); rule != nil {
		return rule.Err
	}
	return s.inner.List(ctx, prefix, fn)
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if rule := s.match(OpDelete, key); rule != nil {
		return rule.Err
	}
	return s.inner.Delete(ctx, key)
}

// SetClass implements blob.ClassSetter; it fails with blob.ErrNoClasses if
// the inner store has no storage classes.
func (s *Store) SetClass(ctx context.Context, key, class string) error {
	if rule := s.match(OpSetClass, key); rule != nil {
		return rule.Err
	}
	cs, ok := s.inner.(blob.ClassSetter)
	if !ok {
		return fmt.Errorf("blobfault: set class of %s: %w", key, blob.ErrNoClasses)
	}
	return cs.SetClass(ctx, key, class)
}

// ClassInfo implements blob.ClassSetter; it fails with blob.ErrNoClasses if
// the inner store has no storage classes.
func (s *Store) ClassInfo(ctx context.Context, key string) (blob.ClassInfo, error) {
	if rule := s.match(OpClassInfo, key); rule != nil {
		return blob.ClassInfo{}, rule.Err
	}
	cs, ok := s.inner.(blob.ClassSetter)
	if !ok {
		return blob.ClassInfo{}, fmt.Errorf("blobfault: class of %s: %w", key, blob.ErrNoClasses)
	}
	return cs.ClassInfo(ctx, key)
}

// failReader passes n bytes of r through, then fails with err.
type failReader struct {
	r   io.Reader
	n   int64
	err error
}

func (f *failReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}
