// Package pagetoken is the paging both catalogs (internal/sqlite,
// internal/postgres) share: the size of a page and the opaque NextToken of
// a listing. A token is base64url text of "KIND|..." so that a token of one
// listing is refused by another; a catalog's tokens read the same on the
// other, so `cairn catalog copy` keeps a client's paging valid.
package pagetoken

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// DefaultSize and MaxSize bound a page: MaxResults 0 means DefaultSize,
// values above MaxSize are MaxSize.
const (
	DefaultSize = 100
	MaxSize     = 1000
)

// Size returns the number of rows a page of p holds; a negative
// MaxResults is ErrInvalidParameter.
func Size(p backup.Page) (int, error) {
	switch {
	case p.MaxResults < 0:
		return 0, backup.Errorf(backup.ErrInvalidParameter, "MaxResults %d must not be negative", p.MaxResults)
	case p.MaxResults == 0:
		return DefaultSize, nil
	case p.MaxResults > MaxSize:
		return MaxSize, nil
	}
	return p.MaxResults, nil
}

// Encode returns the token of kind holding parts.
func Encode(kind string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "|" + strings.Join(parts, "|")))
}

// Decode returns the n parts of a token of kind, or ErrInvalidParameter.
func Decode(kind, token string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		parts := strings.SplitN(string(b), "|", n+1)
		if len(parts) == n+1 && parts[0] == kind {
			return parts[1:], nil
		}
	}
	return nil, backup.Errorf(backup.ErrInvalidParameter, "invalid NextToken %q", token)
}

// EncodeCursor returns the token of a newest-first listing whose next page
// starts after the row created at t with id.
func EncodeCursor(kind string, t time.Time, id string) string {
	return Encode(kind, strconv.FormatInt(t.UnixNano(), 10), id)
}

// DecodeCursor returns what EncodeCursor encoded: the row's creation time
// in nanoseconds and its id; ok is false for the first page (no token).
func DecodeCursor(kind, token string) (ns int64, id string, ok bool, err error) {
	if token == "" {
		return 0, "", false, nil
	}
	parts, err := Decode(kind, token, 2)
	if err != nil {
		return 0, "", false, err
	}
	ns, perr := strconv.ParseInt(parts[0], 10, 64)
	if perr != nil {
		return 0, "", false, backup.Errorf(backup.ErrInvalidParameter, "invalid NextToken %q", token)
	}
	return ns, parts[1], true, nil
}
