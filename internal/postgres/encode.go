package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/pagetoken"
)

// The range of times that fit in int64 nanoseconds.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos returns t as nanoseconds since the epoch, or nil (NULL) for the
// zero time. field names t in the error for a time that does not fit.
func nanos(t time.Time, field string) (*int64, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, backup.Errorf(backup.ErrInvalidParameter, "%s %s is out of range (years 1678 to 2261)", field, t.Format(time.RFC3339))
	}
	n := t.UnixNano()
	return &n, nil
}

// requiredNanos is nanos for a time that must be set.
func requiredNanos(t time.Time, field string) (int64, error) {
	if t.IsZero() {
		return 0, backup.Errorf(backup.ErrMissingParameter, "%s is required", field)
	}
	v, err := nanos(t, field)
	if err != nil {
		return 0, err
	}
	return *v, nil
}

// timeOf is the inverse of nanos.
func timeOf(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// jsonText returns v as JSON text, or nil (NULL) if zero is set.
func jsonText(v any, zero bool) (*string, error) {
	if zero {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// fromJSON decodes s into v unless s is NULL.
func fromJSON(s *string, v any) error {
	if s == nil {
		return nil
	}
	return json.Unmarshal([]byte(*s), v)
}

// pageSize returns the number of rows a page of p holds.
func pageSize(p backup.Page) (int, error) { return pagetoken.Size(p) }

// Tokens are base64url text of "KIND|..." so that a token of one listing is
// refused by another. They are those of internal/sqlite.
const (
	tokenVaults           = "v1"
	tokenJobs             = "j1"
	tokenPoints           = "p1"
	tokenRestores         = "r1"
	tokenProtected        = "pr1"
	tokenProtectedByVault = "prv1"
	tokenPlans            = "bp1"
	tokenVersions         = "bv1"
	tokenSelection        = "bs1"
	tokenCopies           = "c1"
	tokenStacks           = "s1"
	tokenPolicies         = "po1"
	tokenFrameworks       = "fw1"
	tokenReportPlans      = "rp1"
	tokenReportJobs       = "rj1"
)

func encodeToken(kind string, parts ...string) string { return pagetoken.Encode(kind, parts...) }

// decodeToken returns the n parts of a token of kind.
func decodeToken(kind, token string, n int) ([]string, error) {
	return pagetoken.Decode(kind, token, n)
}

// cursor is the position after the last row of a newest-first page.
type cursor struct {
	ns int64
	id string
}

func encodeCursor(kind string, t time.Time, id string) string {
	return pagetoken.EncodeCursor(kind, t, id)
}

// decodeCursor returns the cursor of token, or nil for the first page.
func decodeCursor(kind, token string) (*cursor, error) {
	ns, id, ok, err := pagetoken.DecodeCursor(kind, token)
	if !ok || err != nil {
		return nil, err
	}
	return &cursor{ns: ns, id: id}, nil
}

// afterName decodes the token of a listing ordered by name: the name the
// next page starts after ("" for the first page).
func afterName(kind, token string) (string, error) {
	if token == "" {
		return "", nil
	}
	parts, err := decodeToken(kind, token, 1)
	if err != nil {
		return "", err
	}
	return parts[0], nil
}

// listByName returns the page p of a listing ordered by name (query has
// two parameters: the name to start after and the limit) and its next token.
func listByName[T any](ctx context.Context, db querier, p backup.Page, kind, what, query string,
	scan func(scanner) (*T, error), name func(*T) string) ([]*T, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	after, err := afterName(kind, p.NextToken)
	if err != nil {
		return nil, "", err
	}
	rows, err := db.Query(ctx, query, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list %s: %w", what, err)
	}
	out, err := collectRows(rows, scan)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list %s: %w", what, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeToken(kind, name(out[limit-1]))
	}
	return out, next, nil
}

// listQuery builds the newest-first, keyset-paginated listing of one
// table. Conditions are written with ? for their arguments; build numbers
// them $1, $2, ...
type listQuery struct {
	table string
	cols  string // the selected columns; must include the key columns
	// keyNs and keyID are the columns of the order and the keyset cursor;
	// empty means creation_ns and id.
	keyNs, keyID string
	conds        []clause
	// alts are sets of disjoint alternatives; the query is the union of one
	// ordered index scan per combination, which PostgreSQL merges (Merge
	// Append) in page order. An "any of" filter is one set: a page of rows
	// in one of several states is then a few index range scans, never a
	// sort of every matching row. See also completeRange.
	alts [][]clause
}

// clause is a condition with its arguments.
type clause struct {
	cond string
	args []any
}

// where adds a condition with its arguments.
func (q *listQuery) where(cond string, args ...any) {
	q.conds = append(q.conds, clause{cond, args})
}

// timeRange adds after < col < before for the non-zero bounds.
func (q *listQuery) timeRange(col string, after, before time.Time) {
	if !after.IsZero() {
		switch {
		case after.Before(minTime):
			q.where(col + " IS NOT NULL")
		case after.After(maxTime):
			q.where("FALSE")
		default:
			q.where(col+" > ?", after.UnixNano())
		}
	}
	if !before.IsZero() {
		switch {
		case before.After(maxTime):
			q.where(col + " IS NOT NULL")
		case before.Before(minTime):
			q.where("FALSE")
		default:
			q.where(col+" < ?", before.UnixNano())
		}
	}
}

// atOrBefore adds col <= t if t is not zero; a NULL col never matches.
func (q *listQuery) atOrBefore(col string, t time.Time) {
	switch {
	case t.IsZero():
	case t.Before(minTime):
		q.where("FALSE")
	case t.After(maxTime):
		q.where(col + " IS NOT NULL")
	default:
		q.where(col+" <= ?", t.UnixNano())
	}
}

// completeRange adds after < completion_ns < before. A job normally
// completes after it was created, so completion_ns < before implies
// creation_ns < before, which lets the scan in creation order start at
// before instead of reading every newer row. The rows for which that does
// not hold (a clock stepped back) are read from the partial index of such
// rows, normally empty.
//
// The after bound can use the index of completion times (the jobs that
// completed lately are few). The before bound is written completion_ns + 0,
// which no index serves: PostgreSQL, not knowing that completion follows
// creation, would otherwise intersect that index with the creation range and
// sort every job of the range instead of reading the newest 101.
func (q *listQuery) completeRange(after, before time.Time) {
	q.timeRange("completion_ns", after, time.Time{})
	q.timeRange("completion_ns + 0", time.Time{}, before)
	if before.IsZero() || before.Before(minTime) || before.After(maxTime) {
		return
	}
	q.alts = append(q.alts, []clause{
		{"completion_ns >= creation_ns AND creation_ns < ?", []any{before.UnixNano()}},
		{"completion_ns < creation_ns", nil},
	})
}

// anyOf adds the filter "col is one of vals".
func (q *listQuery) anyOf(col string, vals []string) {
	seen := map[string]bool{}
	var set []clause
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			set = append(set, clause{col + " = ?", []any{v}})
		}
	}
	q.alts = append(q.alts, set)
}

// build returns the query for up to limit rows after cur.
func (q *listQuery) build(cur *cursor, limit int) (string, []any) {
	keyNs, keyID := q.keyNs, q.keyID
	if keyNs == "" {
		keyNs, keyID = "creation_ns", "id"
	}
	newestFirst := " ORDER BY " + keyNs + " DESC, " + keyID + " DESC LIMIT ?"
	conds := slices.Clone(q.conds)
	if cur != nil {
		conds = append(conds, clause{"(" + keyNs + ", " + keyID + ") < (?, ?)", []any{cur.ns, cur.id}})
	}
	// Every combination of one clause from each set of alternatives.
	combos := [][]clause{nil}
	for _, set := range q.alts {
		var next [][]clause
		for _, c := range combos {
			for _, alt := range set {
				next = append(next, append(slices.Clone(c), alt))
			}
		}
		combos = next
	}
	var parts []string
	var args []any
	for _, combo := range combos {
		var text []string
		for _, c := range append(slices.Clone(conds), combo...) {
			text = append(text, c.cond)
			args = append(args, c.args...)
		}
		s := "SELECT " + q.cols + " FROM " + q.table
		if len(text) > 0 {
			s += " WHERE " + strings.Join(text, " AND ")
		}
		parts = append(parts, s+newestFirst)
		args = append(args, limit)
	}
	if len(parts) == 1 {
		return number(parts[0]), args
	}
	for i, p := range parts {
		parts[i] = "(" + p + ")"
	}
	return number(strings.Join(parts, " UNION ALL ") + newestFirst), append(args, limit)
}

// number replaces each ? of query by $1, $2, ... in order. The queries
// built here have no other question mark.
func number(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// list runs q for the page p and returns its rows and the next token.
func list[T any](ctx context.Context, db querier, q *listQuery, p backup.Page, kind string,
	scan func(scanner) (T, error), key func(T) (time.Time, string)) ([]T, string, error) {
	limit, err := pageSize(p)
	if err != nil {
		return nil, "", err
	}
	cur, err := decodeCursor(kind, p.NextToken)
	if err != nil {
		return nil, "", err
	}
	query, args := q.build(cur, limit+1)
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list %s: %w", q.table, err)
	}
	out, err := collectRows(rows, scan)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list %s: %w", q.table, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		t, id := key(out[limit-1])
		next = encodeCursor(kind, t, id)
	}
	return out, next, nil
}

// strs returns values of a string kind as strings.
func strs[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}
