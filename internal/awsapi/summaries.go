package awsapi

import (
	"slices"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

// summaryStates are the model's State values of each summary operation
// (BackupJobStatus, RestoreJobState, CopyJobStatus), ANY and AGGREGATE_ALL
// included.
var summaryStates = map[backup.JobKind][]string{
	backup.JobKindBackup: {"CREATED", "PENDING", "RUNNING", "ABORTING", "ABORTED", "COMPLETED", "FAILED", "EXPIRED", "PARTIAL",
		backup.SummaryAggregateAll, backup.SummaryAny},
	backup.JobKindRestore: {"CREATED", "PENDING", "RUNNING", "ABORTED", "COMPLETED", "FAILED",
		backup.SummaryAggregateAll, backup.SummaryAny},
	backup.JobKindCopy: {"CREATED", "RUNNING", "ABORTING", "ABORTED", "COMPLETING", "COMPLETED", "FAILING", "FAILED", "PARTIAL",
		backup.SummaryAggregateAll, backup.SummaryAny},
}

// jobSummary is the model's BackupJobSummary, RestoreJobSummary and
// CopyJobSummary (a restore summary has no MessageCategory).
type jobSummary struct {
	Region          string `json:",omitempty"`
	AccountId       string `json:",omitempty"`
	State           string `json:",omitempty"`
	ResourceType    string `json:",omitempty"`
	MessageCategory string `json:",omitempty"`
	Count           int
	StartTime       epoch `json:",omitzero"`
	EndTime         epoch `json:",omitzero"`
}

type listBackupJobSummariesOutput struct {
	BackupJobSummaries []jobSummary
	AggregationPeriod  string `json:",omitempty"`
	NextToken          string `json:",omitempty"`
}

type listRestoreJobSummariesOutput struct {
	RestoreJobSummaries []jobSummary
	AggregationPeriod   string `json:",omitempty"`
	NextToken           string `json:",omitempty"`
}

type listCopyJobSummariesOutput struct {
	CopyJobSummaries  []jobSummary
	AggregationPeriod string `json:",omitempty"`
	NextToken         string `json:",omitempty"`
}

func (s *Server) listBackupJobSummaries(q *request) (any, error) {
	rows, period, next, err := s.jobSummaries(q, backup.JobKindBackup)
	if err != nil {
		return nil, err
	}
	return listBackupJobSummariesOutput{BackupJobSummaries: rows, AggregationPeriod: period, NextToken: next}, nil
}

func (s *Server) listRestoreJobSummaries(q *request) (any, error) {
	rows, period, next, err := s.jobSummaries(q, backup.JobKindRestore)
	if err != nil {
		return nil, err
	}
	return listRestoreJobSummariesOutput{RestoreJobSummaries: rows, AggregationPeriod: period, NextToken: next}, nil
}

func (s *Server) listCopyJobSummaries(q *request) (any, error) {
	rows, period, next, err := s.jobSummaries(q, backup.JobKindCopy)
	if err != nil {
		return nil, err
	}
	return listCopyJobSummariesOutput{CopyJobSummaries: rows, AggregationPeriod: period, NextToken: next}, nil
}

// jobSummaries validates the query members of a List*JobSummaries request
// (capitalised, as the model names them) and asks the service.
func (s *Server) jobSummaries(q *request, kind backup.JobKind) ([]jobSummary, string, string, error) {
	in := backup.JobSummaryInput{Kind: kind, Page: backup.Page{NextToken: q.str("NextToken"),
		MaxResults: q.integer("MaxResults", 1, 1000, 0)}}
	if p := q.str("AggregationPeriod"); p != "" {
		if !backup.ValidAggregationPeriod(p) {
			q.fail(invalidParam("AggregationPeriod %q is not ONE_DAY, SEVEN_DAYS or FOURTEEN_DAYS", p))
		}
		in.Period = backup.AggregationPeriod(p)
	}
	special := func(v string) bool { return v == backup.SummaryAny || v == backup.SummaryAggregateAll }
	if a := q.str("AccountId"); a != "" {
		if !special(a) && !accountIDPattern.MatchString(a) {
			q.fail(invalidParam("AccountId %q is not a 12-digit account id, ANY or AGGREGATE_ALL", a))
		}
		in.AccountID = a
	}
	if st := q.str("State"); st != "" {
		if !slices.Contains(summaryStates[kind], st) {
			q.fail(invalidParam("State %q is not one of %s", st, strings.Join(summaryStates[kind], ", ")))
		}
		in.State = st
	}
	if rt := q.str("ResourceType"); rt != "" {
		if !special(rt) && !resourceTypePattern.MatchString(rt) {
			q.fail(invalidParam("ResourceType %q does not match the pattern %s and is not ANY or AGGREGATE_ALL", rt, resourceTypePattern))
		}
		in.ResourceType = rt
	}
	if kind != backup.JobKindRestore {
		if mc := q.str("MessageCategory"); mc != "" {
			if len(mc) > 100 {
				q.fail(invalidParam("MessageCategory is longer than 100 characters; cairn's categories are SUCCESS and UNKNOWN (or ANY, AGGREGATE_ALL)"))
			}
			in.MessageCategory = mc
		}
	}
	if err := q.err(); err != nil {
		return nil, "", "", err
	}
	rows, period, next, err := s.svc.ListJobSummaries(q.ctx(), in)
	if err != nil {
		return nil, "", "", err
	}
	out := make([]jobSummary, 0, len(rows))
	for _, r := range rows {
		out = append(out, jobSummary{Region: r.Region, AccountId: r.AccountID, State: r.State, ResourceType: r.ResourceType,
			MessageCategory: r.MessageCategory, Count: r.Count, StartTime: epoch(r.StartTime), EndTime: epoch(r.EndTime)})
	}
	return out, string(period), next, nil
}
