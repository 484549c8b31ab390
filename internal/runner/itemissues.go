package runner

import (
	"fmt"
	"strings"

	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/engine"
)

// Bounds of the list of items a StatusMessage names: the count is always
// given, the keys of the first few.
const (
	maxItemsNamed    = 10
	maxItemsText     = 1500
	maxIssueReason   = 120
	ellipsis         = "..."
	outOfSpecSummary = "a strict target such as DynamoDB refuses them"
)

// itemsText names up to maxItemsNamed of the items (key and reason), within
// about maxItemsText bytes, and says how many more there are of total.
func itemsText(total int64, items []engine.ItemIssue) string {
	var b strings.Builder
	named := 0
	for _, is := range items {
		if named == maxItemsNamed || b.Len() > maxItemsText {
			break
		}
		if named > 0 {
			b.WriteString("; ")
		}
		reason := is.Reason
		if len(reason) > maxIssueReason {
			reason = reason[:maxIssueReason] + ellipsis
		}
		fmt.Fprintf(&b, "%s (%s)", is.Key, reason)
		named++
	}
	if more := total - int64(named); more > 0 {
		fmt.Fprintf(&b, "; and %d more", more)
	}
	return b.String()
}

// refusedError ends a restore whose target refused items: its text is the
// job's StatusMessage as is (bounded by itemsText), not cut as other
// errors are.
type refusedError struct{ text string }

func (e *refusedError) Error() string { return e.text }

// keyNames returns the names of a table's key attributes.
func keyNames(ks []dynamodb.KeySchemaElement) []string {
	names := make([]string, 0, len(ks))
	for _, k := range ks {
		names = append(names, k.AttributeName)
	}
	return names
}
