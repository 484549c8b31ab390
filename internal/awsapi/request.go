package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// request is what a handler reads: path members, query members and the JSON
// body. Query readers remember the first invalid member; check err after
// reading them all.
type request struct {
	r    *http.Request
	body []byte
	bad  error
}

func (q *request) ctx() context.Context { return q.r.Context() }

// err returns the first invalid query member met so far.
func (q *request) err() error { return q.bad }

func (q *request) fail(err error) {
	if q.bad == nil {
		q.bad = err
	}
}

// decode reads the JSON body into v. An empty body is an empty object.
func (q *request) decode(v any) error {
	b := bytes.TrimSpace(q.body)
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errSerialization("The request body is not valid JSON for this operation: " + err.Error())
	}
	return nil
}

// path returns the path member name, decoded.
func (q *request) path(name string) string { return q.r.PathValue(name) }

// str returns the query member name, or "".
func (q *request) str(name string) string { return q.r.URL.Query().Get(name) }

// pattern returns the query member name, failing if it is set and does not
// match re.
func (q *request) pattern(name string, re *regexp.Regexp) string {
	v := q.str(name)
	if v != "" && !re.MatchString(v) {
		q.fail(invalidParam("%s %q does not match the pattern %s", name, v, re))
	}
	return v
}

// boolean returns the query member name as a boolean.
func (q *request) boolean(name string) bool {
	v := q.str(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail(invalidParam("%s %q is not a boolean", name, v))
	}
	return b
}

// timestamp returns the query member name as a time, from ISO 8601 or
// epoch seconds.
func (q *request) timestamp(name string) time.Time {
	v := q.str(name)
	if v == "" {
		return time.Time{}
	}
	t, err := parseTimestamp(v)
	if err != nil {
		q.fail(invalidParam("%s %q is not a timestamp (ISO 8601 or epoch seconds)", name, v))
	}
	return t
}

// page returns the maxResults and nextToken query members.
func (q *request) page() backup.Page {
	p := backup.Page{NextToken: q.str("nextToken")}
	if v := q.str("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			q.fail(invalidParam("maxResults %q must be a whole number from 1 to 1000", v))
		}
		p.MaxResults = n
	}
	return p
}

// arn returns the query member name, failing if it is set and not an ARN.
func (q *request) arn(name string) string {
	v := q.str(name)
	if v != "" {
		if _, err := backup.ParseARN(v); err != nil {
			q.fail(err)
		}
	}
	return v
}

// timestampLayouts are the ISO 8601 forms accepted in query strings.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"20060102T150405Z",
	"2006-01-02",
}

var epochPattern = regexp.MustCompile(`^-?[0-9]{1,12}(\.[0-9]{1,9})?$`)

// parseTimestamp parses an ISO 8601 time (in UTC unless it says otherwise)
// or a number of seconds since the Unix epoch.
func parseTimestamp(s string) (time.Time, error) {
	if epochPattern.MatchString(s) {
		sec, frac, _ := strings.Cut(s, ".")
		n, err := strconv.ParseInt(sec, 10, 64)
		if err != nil {
			return time.Time{}, err
		}
		var nanos int64
		if frac != "" {
			nanos, _ = strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			if strings.HasPrefix(sec, "-") {
				nanos = -nanos
			}
		}
		return time.Unix(n, nanos).UTC(), nil
	}
	var err error
	for _, layout := range timestampLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// integer returns the query member name as a whole number from lo to hi,
// or def if it is absent.
func (q *request) integer(name string, lo, hi, def int) int {
	v := q.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		q.fail(invalidParam("%s %q must be a whole number from %d to %d", name, v, lo, hi))
		return def
	}
	return n
}

// Patterns of the model's string shapes, and of the ids cairn makes.
var (
	resourceTypePattern = regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,50}$`)
	// namePattern is that of BackupRuleName and BackupSelectionName.
	namePattern = regexp.MustCompile(`^[a-zA-Z0-9\-_.]{1,50}$`)
	// idPattern admits the ids of plans, rules, selections and jobs.
	idPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,127}$`)
	// versionIDPattern admits plan version ids (base64 text).
	versionIDPattern = regexp.MustCompile(`^[a-zA-Z0-9+/=\-_]{1,128}$`)
)

// checkID validates an id member: present and of the form cairn's ids
// have.
func checkID(name, id string) error {
	if id == "" {
		return missingParam(name)
	}
	if !idPattern.MatchString(id) {
		return invalidParam("%s %q is not an id cairn issues (letters, digits, '-', '_' and '.', at most 128)", name, id)
	}
	return nil
}

// checkVaultARN validates the ARN of a backup vault, the member named
// name.
func checkVaultARN(name, s string) error {
	_, _, err := backup.ParseVaultARN(s)
	return inMember(name, err)
}

// inMember prefixes the message of a domain error with the request member
// it is about, keeping its code; other errors and nil pass unchanged.
func inMember(name string, err error) error {
	var de *backup.Error
	if !errors.As(err, &de) {
		return err
	}
	c := *de
	c.Message = name + ": " + de.Message
	return &c
}

// required returns a MissingParameterValueException for each member in
// turn that is absent or empty, or nil.
func required(members ...member) error {
	for _, m := range members {
		if m.value == nil || *m.value == "" {
			return missingParam(m.name)
		}
	}
	return nil
}

// member is a required string member of a request body.
type member struct {
	name  string
	value *string
}

// checkVaultName validates a vault name member.
func checkVaultName(name string) error {
	if name == "" {
		return missingParam("BackupVaultName")
	}
	return backup.ValidateVaultName(name)
}

// checkRoleARN validates an IAM role ARN.
func checkRoleARN(s string) error {
	a, err := backup.ParseARN(s)
	if err != nil {
		return err
	}
	if a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return invalidParam("%q is not an IAM role ARN (expected arn:aws:iam::ACCOUNT:role/NAME)", s)
	}
	return nil
}

// checkAccount fails unless the query member name is empty or this
// server's account; cairn holds nothing of other accounts.
func (s *Server) checkAccount(q *request, name, kind, id string) error {
	v := q.str(name)
	if v == "" || v == s.accountID {
		return nil
	}
	if !accountIDPattern.MatchString(v) {
		return invalidParam("%s %q must be 12 digits", name, v)
	}
	return backup.NotFound(kind, id)
}
