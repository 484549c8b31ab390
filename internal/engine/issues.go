package engine

import (
	"errors"
	"sync"

	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// ItemIssue names one item a backup kept although DynamoDB's rules refuse
// it, or one item a restore's target refused.
type ItemIssue struct {
	// Key is the item's key attributes in DynamoDB JSON (ddbjson.AppendKey).
	Key string
	// Reason says what is wrong with the item, or what the target answered.
	Reason string
}

// MaxNamedItems is how many items with issues a backup or restore names in
// its result; all of them are counted.
const MaxNamedItems = 100

// maxKeyBytes bounds a key as an ItemIssue records it (DynamoDB keys may be
// up to 2 KB of text).
const maxKeyBytes = 256

// issueList collects items with issues from concurrent segments or writers.
type issueList struct {
	mu    sync.Mutex
	n     int64
	items []ItemIssue
}

// add counts item and names it by its key attributes while fewer than
// MaxNamedItems are named.
func (l *issueList) add(item []byte, keyAttrs []string, why error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	if len(l.items) >= MaxNamedItems {
		return
	}
	key := ddbjson.AppendKey(nil, item, keyAttrs...)
	if len(key) > maxKeyBytes {
		key = append(key[:maxKeyBytes-3], "..."...)
	}
	l.items = append(l.items, ItemIssue{Key: string(key), Reason: reason(why)})
}

// reason is an item error without package prefix or byte offset: the
// attribute path and what is wrong, the target's error code and message,
// or the error as is.
func reason(err error) string {
	var ae *dynamodb.APIError
	if errors.As(err, &ae) {
		return ae.Code + ": " + ae.Message
	}
	var de *ddbjson.Error
	if errors.As(err, &de) {
		if de.Path != "" {
			return "attribute " + de.Path + ": " + de.Reason
		}
		return de.Reason
	}
	return err.Error()
}
