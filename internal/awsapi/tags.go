package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// tagARN reads and validates the resourceArn path member of the tagging
// operations: the ARN of a backup vault, a backup plan or a recovery point.
func tagARN(q *request) (string, error) {
	arn := q.path("resourceArn")
	if arn == "" {
		return "", missingParam("ResourceArn")
	}
	if _, _, err := backup.ParseTaggableARN(arn); err != nil {
		return "", inMember("ResourceArn", err)
	}
	return arn, nil
}

func (s *Server) tagResource(q *request) (any, error) {
	arn, err := tagARN(q)
	if err != nil {
		return nil, err
	}
	var in tagResourceInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, missingParam("Tags")
	}
	// How many tags a resource may carry in all is the service's to check
	// (LimitExceededException); each tag is checked here.
	for k, v := range in.Tags {
		if err := backup.ValidateTag("Tags", k, v); err != nil {
			return nil, err
		}
	}
	return nil, s.svc.TagResource(q.ctx(), arn, in.Tags)
}

func (s *Server) untagResource(q *request) (any, error) {
	arn, err := tagARN(q)
	if err != nil {
		return nil, err
	}
	var in untagResourceInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if len(in.TagKeyList) == 0 {
		return nil, missingParam("TagKeyList")
	}
	for _, k := range in.TagKeyList {
		if err := backup.ValidateTagKey("TagKeyList", k); err != nil {
			return nil, err
		}
	}
	return nil, s.svc.UntagResource(q.ctx(), arn, in.TagKeyList)
}

func (s *Server) listTags(q *request) (any, error) {
	arn, err := tagARN(q)
	if err != nil {
		return nil, err
	}
	page := q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	tags, next, err := s.svc.ListTags(q.ctx(), arn, page)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return listTagsOutput{Tags: tags, NextToken: next}, nil
}
