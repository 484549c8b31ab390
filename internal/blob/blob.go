// Package blob defines the byte store that vaults are kept in: keys and bytes,
// nothing more. Implementations live in sub-packages named after what they
// wrap (file, s3, mem); blobtest holds the suite every one of them passes.
//
// Keys are slash-separated relative paths ("rp/ID/data/0001.json.zst"); they
// never start with '/', never contain "..", '\\' or empty segments.
//
// Beyond Store, stores may have optional capabilities, found with a type
// assertion and forwarded by wrappers: ClassSetter (storage classes),
// ReceiptPutter (the size, MD5 and ETag of what Put stored; use
// PutWithReceipt with any store) and Locator (the bucket and key prefix
// readers outside cairn address the objects by).
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrNotFound is returned when a key does not exist.
var ErrNotFound = errors.New("blob: not found")

// ErrInvalidKey is returned (wrapped) by every Store method given a key that
// fails ValidKey, or one the implementation reserves for itself.
var ErrInvalidKey = errors.New("blob: invalid key")

// CheckKey returns nil if key is valid and an error wrapping ErrInvalidKey
// that names the key otherwise.
func CheckKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return nil
}

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is a flat key/value store of immutable objects.
//
// Every method is safe for concurrent use, takes ctx first and returns an
// error (possibly wrapping ctx.Err()) once ctx is done. Methods given a key
// that fails ValidKey return an error wrapping ErrInvalidKey. Stores do not
// retry: retries are a wrapper's business.
type Store interface {
	// Put stores everything read from r under key, replacing any object
	// there. The object becomes visible only once complete: a failed or
	// cancelled Put leaves either the previous object or none, never a
	// partial one. Put reads r as a stream and must not buffer the whole
	// object in memory.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens the object at key for reading; ErrNotFound if absent.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat returns the object's Info; ErrNotFound if absent.
	Stat(ctx context.Context, key string) (Info, error)
	// List calls fn for every object whose key starts with prefix, in
	// lexical (byte-wise) key order. prefix is a plain string prefix, not a
	// directory: "a/b" matches "a/b/c" and "a/bc". An error from fn stops the
	// listing and is returned.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes the object at key. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// ValidKey reports whether key is a well-formed blob key.
func ValidKey(key string) bool {
	if key == "" || key[0] == '/' || key[len(key)-1] == '/' {
		return false
	}
	start := 0
	for i := 0; i <= len(key); i++ {
		if i == len(key) || key[i] == '/' {
			seg := key[start:i]
			if seg == "" || seg == "." || seg == ".." {
				return false
			}
			start = i + 1
			continue
		}
		if key[i] == '\\' || key[i] == 0 {
			return false
		}
	}
	return true
}

// DeletePrefix deletes every object under prefix.
func DeletePrefix(ctx context.Context, s Store, prefix string) error {
	var keys []string
	if err := s.List(ctx, prefix, func(i Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
