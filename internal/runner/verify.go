package runner

import (
	"context"
	"fmt"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/vault"
	"github.com/cairn-backup/cairn/internal/verify"
)

// VerifyVault implements backup.VerifyService through internal/verify:
// every point the catalog lists in the vault against the vault's storage
// and, for a vault on local disk, its cold directory.
func (s *Service) VerifyVault(ctx context.Context, name string) (*backup.VaultCheck, error) {
	v, err := s.GetVault(ctx, name)
	if err != nil {
		return nil, err
	}
	var points []*backup.RecoveryPoint
	f := backup.RecoveryPointFilter{VaultName: name, Page: backup.Page{MaxResults: 1000}}
	for {
		page, next, err := s.cfg.Catalog.ListRecoveryPoints(ctx, f)
		if err != nil {
			return nil, err
		}
		points = append(points, page...)
		if next == "" {
			break
		}
		f.NextToken = next
	}
	unreachable := func(err error) *backup.VaultCheck {
		return &backup.VaultCheck{VaultName: name, CatalogPoints: len(points), Problems: []backup.VerifyFinding{{
			Message: fmt.Sprintf("cannot reach the vault's storage %s, so none of its %d recovery points was checked: %v", v.Storage, len(points), err)}}}
	}
	store, err := s.store(ctx, v)
	if err != nil {
		return unreachable(err), nil
	}
	st := verify.Storage{Warm: vault.New(store)}
	cold, err := s.coldStore(ctx, v, false)
	if err != nil {
		return unreachable(err), nil
	}
	if cold != nil {
		st.Cold = vault.New(cold)
	}
	lookup := func(ctx context.Context, id string) (*backup.RecoveryPoint, error) {
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
		if err == nil && rp.VaultName != name {
			return nil, backup.NotFound("RecoveryPoint", id)
		}
		return rp, err
	}
	c := verify.Agreement(ctx, name, points, st, lookup)
	s.log.Info("vault verified", "vault", name, "points", c.CatalogPoints, "problems", len(c.Problems))
	return c, nil
}

// VerifyRecoveryPoint implements backup.VerifyService: the point is read
// where it is now, pinned so no cold move removes its files meanwhile.
func (s *Service) VerifyRecoveryPoint(ctx context.Context, vaultName, arn string, readData bool) (*backup.PointCheck, error) {
	rp, err := s.GetRecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return nil, err
	}
	release, err := inUse.read(ctx, rp.ID)
	if err != nil {
		return nil, err
	}
	defer release()
	if rp, err = s.GetRecoveryPoint(ctx, vaultName, arn); err != nil {
		return nil, err
	}
	switch rp.Status {
	case backup.RecoveryPointCompleted, backup.RecoveryPointPartial, backup.RecoveryPointExpired:
	default:
		return &backup.PointCheck{VaultName: vaultName, RecoveryPointARN: rp.ARN, RecoveryPointID: rp.ID, ReadData: readData,
			Notes: []backup.VerifyFinding{{RecoveryPointID: rp.ID,
				Message: fmt.Sprintf("the point is %s: its files are being written or removed, so they were not checked", rp.Status)}}}, nil
	}
	pv, err := s.pointVault(ctx, rp)
	if err != nil {
		return &backup.PointCheck{VaultName: vaultName, RecoveryPointARN: rp.ARN, RecoveryPointID: rp.ID, ReadData: readData,
			Problems: []backup.VerifyFinding{{RecoveryPointID: rp.ID, Message: fmt.Sprintf("cannot reach the point's storage: %v", err)}}}, nil
	}
	c := verify.Point(ctx, pv, rp, readData)
	log := s.log.With("vault", vaultName, "recovery_point", rp.ARN)
	if len(c.Problems) > 0 {
		log.Warn("recovery point verified: problems found", "problems", len(c.Problems), "first", c.Problems[0].Message)
	} else {
		log.Info("recovery point verified", "files", c.Files, "bytes", c.Bytes, "read_data", readData)
	}
	return c, nil
}
