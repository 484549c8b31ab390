package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Tagger adds tags to a table (the governance worker's remediation).
// *Client implements it.
type Tagger interface {
	// TagResource adds tags to the table with ARN tableARN and gives keys
	// it already carries the new values; its other tags are left as they
	// are (DynamoDB's TagResource). A missing table is ErrTableNotFound; a
	// server that does not implement tagging answers an error matching
	// errors.ErrUnsupported.
	TagResource(ctx context.Context, tableARN string, tags []Tag) error
}

var _ Tagger = (*Client)(nil)

// TagResource adds tags to the table with ARN tableARN (DynamoDB's
// TagResource, which only adds and overwrites the keys it is given).
func (c *Client) TagResource(ctx context.Context, tableARN string, tags []Tag) error {
	in := &dynamodb.TagResourceInput{ResourceArn: aws.String(tableARN)}
	for _, t := range tags {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	_, err := c.api.TagResource(ctx, in)
	switch {
	case err == nil:
		return nil
	case sdkErrorCode(err) == "ResourceNotFoundException":
		return tableErr("tag", tableARN, err)
	case sdkErrorCode(err) == "ValidationException":
		// A bad key or value, or too many tags: the server's answer,
		// not a missing capability.
		return fmt.Errorf("tag %s: %w", tableARN, err)
	case isUnsupported(err):
		return fmt.Errorf("tag %s: %w: %w", tableARN, errors.ErrUnsupported, err)
	}
	return fmt.Errorf("tag %s: %w", tableARN, err)
}

// NewRetryTagger returns a Tagger that sends TagResource again, after an
// exponential backoff with full jitter, while it fails with IsRetryable
// errors, within the policy's limits. TagResource is idempotent.
func NewRetryTagger(t Tagger, p RetryPolicy) Tagger {
	return &retryTagger{t: t, p: p.withDefaults()}
}

type retryTagger struct {
	t Tagger
	p RetryPolicy
}

func (rt *retryTagger) TagResource(ctx context.Context, tableARN string, tags []Tag) error {
	_, err := retry(ctx, rt.p, func() (struct{}, error) { return struct{}{}, rt.t.TagResource(ctx, tableARN, tags) })
	return err
}

// FaultTagger is a Tagger that refuses TagResource as told, for tests of
// remediation retries: every call fails with Err while Refuse is set,
// without calling through.
type FaultTagger struct {
	t  Tagger
	mu sync.Mutex
	// refuse is the error every call returns; nil calls through.
	refuse error
	calls  int
}

// NewFaultTagger wraps t; it calls through until Refuse is called.
func NewFaultTagger(t Tagger) *FaultTagger { return &FaultTagger{t: t} }

// Refuse makes every later call fail with err (nil calls through again).
// Refuse(nil) restores the target.
func (ft *FaultTagger) Refuse(err error) {
	ft.mu.Lock()
	ft.refuse = err
	ft.mu.Unlock()
}

// AccessDenied is the error DynamoDB answers a caller whose role may not
// tag (what an AWS tag policy's enforcement or an IAM deny looks like).
func AccessDenied(msg string) error {
	return &APIError{Code: "AccessDeniedException", StatusCode: http.StatusBadRequest, Message: msg}
}

// Calls returns how many TagResource calls the wrapper saw.
func (ft *FaultTagger) Calls() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.calls
}

// TagResource fails with the injected error, or calls through.
func (ft *FaultTagger) TagResource(ctx context.Context, tableARN string, tags []Tag) error {
	ft.mu.Lock()
	ft.calls++
	err := ft.refuse
	ft.mu.Unlock()
	if err != nil {
		return fmt.Errorf("tag %s: %w", tableARN, err)
	}
	return ft.t.TagResource(ctx, tableARN, tags)
}
