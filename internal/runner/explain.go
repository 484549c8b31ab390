package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// ExplainResource says which live plans, rules and selections cover a
// table with its tags as they are now, and why; or why none does.
func (s *Service) ExplainResource(ctx context.Context, resourceARN string) (*backup.Explanation, error) {
	src, a, table, err := s.source(resourceARN)
	if err != nil {
		return nil, err
	}
	ddb := dynamodb.NewRetryInventory(src.Client, s.inventoryPolicy(s.log.With("resource", resourceARN)))
	r, err := s.describeResource(ctx, src, ddb, table)
	if err != nil {
		if errors.Is(err, dynamodb.ErrTableNotFound) {
			return nil, &backup.Error{Code: backup.ErrNotFound, Type: "Resource", Context: resourceARN,
				Message: fmt.Sprintf("table %s not found in source %s", table, src.Name)}
		}
		return nil, backup.Errorf(backup.ErrInvalidRequest, "cannot read the tags of table %s in source %s: %v", table, src.Name, err)
	}
	if r.ARN != a.String() {
		// The source reports the table under another account or region
		// than the ARN asked about: that ARN names no table.
		return nil, &backup.Error{Code: backup.ErrNotFound, Type: "Resource", Context: resourceARN,
			Message: fmt.Sprintf("table %s of source %s has ARN %s, not %s", table, src.Name, r.ARN, resourceARN)}
	}
	plans, err := s.livePlans(ctx)
	if err != nil {
		return nil, err
	}
	return &backup.Explanation{Resource: r, Verdicts: backup.Explain(plans, r)}, nil
}
