package dynamodb

import (
	"context"
	"errors"
	"fmt"
)

// Inventory is what the scheduler reads of a source to resolve backup
// selections: the names of its tables, their ARNs and their tags. *Client
// implements it; [NewRetryInventory] wraps one with the retry policy.
type Inventory interface {
	// ListTables returns the names of all tables, every page of them.
	ListTables(ctx context.Context) ([]string, error)
	// TableARN returns a table's ARN as the server reports it
	// (DescribeTable's TableArn); a missing table is ErrTableNotFound.
	TableARN(ctx context.Context, name string) (string, error)
	// ListTags returns the tags of a table, every page of them. A missing
	// table is ErrTableNotFound; a server that does not implement tagging
	// answers an error matching errors.ErrUnsupported.
	ListTags(ctx context.Context, tableARN string) ([]Tag, error)
}

var _ Inventory = (*Client)(nil)

// ListTags returns the tags of the table with ARN tableARN
// (ListTagsOfResource, following pagination). A missing table is
// ErrTableNotFound; a server that does not implement ListTagsOfResource (or
// refuses it) gives an error matching errors.ErrUnsupported.
func (c *Client) ListTags(ctx context.Context, tableARN string) ([]Tag, error) {
	tags, err := c.listTags(ctx, tableARN)
	switch {
	case err == nil:
		return tags, nil
	case sdkErrorCode(err) == "ResourceNotFoundException":
		return nil, tableErr("list tags of", tableARN, err)
	case isUnsupported(err):
		return nil, fmt.Errorf("list tags of %s: %w: %w", tableARN, errors.ErrUnsupported, err)
	}
	return nil, fmt.Errorf("list tags of %s: %w", tableARN, err)
}

type retryInventory struct {
	inv Inventory
	p   RetryPolicy
}

// NewRetryInventory returns an Inventory that sends each call again, after
// an exponential backoff with full jitter, while it fails with IsRetryable
// errors, within the policy's limits.
func NewRetryInventory(inv Inventory, p RetryPolicy) Inventory {
	return &retryInventory{inv: inv, p: p.withDefaults()}
}

func (ri *retryInventory) ListTables(ctx context.Context) ([]string, error) {
	return retry(ctx, ri.p, func() ([]string, error) { return ri.inv.ListTables(ctx) })
}

func (ri *retryInventory) TableARN(ctx context.Context, name string) (string, error) {
	return retry(ctx, ri.p, func() (string, error) { return ri.inv.TableARN(ctx, name) })
}

func (ri *retryInventory) ListTags(ctx context.Context, tableARN string) ([]Tag, error) {
	return retry(ctx, ri.p, func() ([]Tag, error) { return ri.inv.ListTags(ctx, tableARN) })
}

// retry calls f until it succeeds, fails with an error that is not
// IsRetryable, or the policy gives up.
func retry[T any](ctx context.Context, p RetryPolicy, f func() (T, error)) (T, error) {
	var r *retrier
	for {
		v, err := f()
		if err == nil || !IsRetryable(err) {
			return v, err
		}
		if r == nil {
			r = p.start()
		}
		if werr := r.wait(ctx, err); werr != nil {
			var zero T
			if ctx.Err() != nil {
				return zero, fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
			}
			return zero, werr
		}
	}
}
