package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Idempotency tokens. StartBackupJob, StartRestoreJob and StartCopyJob take
// an IdempotencyToken: "retrying a successful request with the same
// idempotency token results in a success message with no action taken"
// (AWS Backup's API reference). The catalog makes token -> job one step
// (backup.TokenInUseError), so concurrent requests with one token, in this
// process or another on the same catalog, get one job. Each job records the
// hash of the request that created it (RequestHash); a request that reuses
// a token with other parameters gets InvalidRequestException, which all
// three operations declare (AWS Backup has no IdempotentParameterMismatch
// error), instead of the other request's job.

// requestHash returns the hash of a Start*Job request's parameters: the
// operation's name and the JSON of in, whose IdempotencyToken the caller
// has cleared, normalised so that absent, null and empty maps and lists
// are one. Every field of the input counts, including fields added later.
func requestHash(op string, in any) string {
	b, err := json.Marshal(in)
	if err != nil { // the inputs are plain structs
		panic(fmt.Sprintf("runner: hash %s request: %v", op, err))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(fmt.Sprintf("runner: hash %s request: %v", op, err))
	}
	b, err = json.Marshal(pruneEmpty(v)) // object keys come out sorted
	if err != nil {
		panic(fmt.Sprintf("runner: hash %s request: %v", op, err))
	}
	sum := sha256.Sum256(append([]byte(op+"\n"), b...))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pruneEmpty drops nulls and empty objects and lists from a decoded JSON
// value, recursively.
func pruneEmpty(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			e = pruneEmpty(e)
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = e
		}
		if len(v) == 0 {
			return nil
		}
		return v
	case []any:
		if len(v) == 0 {
			return nil
		}
		for i, e := range v {
			v[i] = pruneEmpty(e)
		}
		return v
	}
	return v
}

// sameRequest returns nil if a job recorded with hash recorded (empty for
// jobs older than request hashes) may be returned for a request with hash
// asked; otherwise the error that says the token was reused.
func sameRequest(op, token, kind, jobID, recorded, asked string) error {
	if recorded == "" || recorded == asked {
		return nil
	}
	return &backup.Error{Code: backup.ErrInvalidRequest, Type: "IdempotencyToken", Context: token,
		Message: fmt.Sprintf("IdempotencyToken %q was used by an earlier %s request with other parameters, which created %s %s; "+
			"repeat that request unchanged to get its job, or use a new IdempotencyToken for a new request", token, op, kind, jobID)}
}

// tokenHolder returns the ID of the job the catalog says holds a token, if
// err is a backup.TokenInUseError.
func tokenHolder(err error) (string, bool) {
	var tu *backup.TokenInUseError
	if errors.As(err, &tu) {
		return tu.JobID, true
	}
	return "", false
}

// backupJobByToken returns the backup job that holds token, nil if none,
// or the error of a request with hash that reuses the token.
func (s *Service) backupJobByToken(ctx context.Context, token, hash string) (*backup.BackupJob, error) {
	jobs, _, err := s.cfg.Catalog.ListBackupJobs(ctx, backup.BackupJobFilter{IdempotencyToken: token, Page: backup.Page{MaxResults: 1}})
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	if err := sameRequest("StartBackupJob", token, "backup job", jobs[0].ID, jobs[0].RequestHash, hash); err != nil {
		return nil, err
	}
	return jobs[0], nil
}

// restoreJobByToken is backupJobByToken for restore jobs.
func (s *Service) restoreJobByToken(ctx context.Context, token, hash string) (*backup.RestoreJob, error) {
	jobs, _, err := s.cfg.Catalog.ListRestoreJobs(ctx, backup.RestoreJobFilter{IdempotencyToken: token, Page: backup.Page{MaxResults: 1}})
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	if err := sameRequest("StartRestoreJob", token, "restore job", jobs[0].ID, jobs[0].RequestHash, hash); err != nil {
		return nil, err
	}
	return jobs[0], nil
}

// copyJobByToken is backupJobByToken for copy jobs.
func (s *Service) copyJobByToken(ctx context.Context, token, hash string) (*backup.CopyJob, error) {
	jobs, _, err := s.cfg.Catalog.ListCopyJobs(ctx, backup.CopyJobFilter{IdempotencyToken: token, Page: backup.Page{MaxResults: 1}})
	if err != nil || len(jobs) == 0 {
		return nil, err
	}
	if err := sameRequest("StartCopyJob", token, "copy job", jobs[0].ID, jobs[0].RequestHash, hash); err != nil {
		return nil, err
	}
	return jobs[0], nil
}
