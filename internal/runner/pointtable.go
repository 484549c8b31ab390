package runner

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
)

// RecoveryPointTable returns the table description a COMPLETED recovery
// point recorded: the "table" member of its cairn-metadata.json
// (DescribeTable's shape with TTL, point-in-time recovery and tags; see
// docs/settings.md), read from its vault and checked against the point's
// summary. The web console shows it on the point's page.
func (s *Service) RecoveryPointTable(ctx context.Context, vaultName, arn string) (json.RawMessage, error) {
	rp, err := s.GetRecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return nil, err
	}
	if rp.Status != backup.RecoveryPointCompleted {
		return nil, backup.Errorf(backup.ErrInvalidRequest, "recovery point %s is %s; only a COMPLETED point's table settings can be read", arn, rp.Status)
	}
	pv, err := s.pointVault(ctx, rp)
	if err != nil {
		return nil, err
	}
	r, err := pv.Open(ctx, rp.ID)
	if err != nil {
		return nil, fmt.Errorf("open recovery point %s: %w", rp.ID, err)
	}
	var meta struct {
		Table json.RawMessage `json:"table"`
	}
	if err := json.Unmarshal(r.Metadata(), &meta); err != nil || len(meta.Table) == 0 {
		return nil, fmt.Errorf("recovery point %s: its metadata names no table: %v", rp.ID, err)
	}
	return meta.Table, nil
}
