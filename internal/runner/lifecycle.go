package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/vault"
)

// A recovery point's lifecycle (AWS's Lifecycle) says when it moves to cold
// storage and when it is deleted, in days after its creation.
// LifecycleTick carries both out:
//
//   - A point past its delete date is deleted like DeleteRecoveryPoint
//     deletes it (DELETING, data, catalog entry). If that fails it is left
//     EXPIRED, as AWS shows a point it could not delete, and the next tick
//     tries again.
//   - A WARM point past its move-to-cold date goes to cold storage. A file
//     vault's point is copied into the vault's cold directory, checked there
//     (manifests, every data file's size and MD5), marked COLD in the
//     catalog, and only then removed from the vault's directory. An S3
//     vault's data files are rewritten in place in the vault's cold storage
//     class and checked (size, MD5 where S3 reports it) before the point is
//     marked COLD. Each step can be repeated, so a failure or a crash
//     anywhere leaves a readable point (WARM until it is COLD) and the next
//     tick, or recoverLifecycle at start, finishes the move.

// pointUse tracks the recovery points this process reads (restores, copies)
// or changes (cold moves, expiry), by point ID, so a cold move never removes
// files a reader still needs and a reader never starts on a point midway
// through a move. IDs are unique, so one table serves every Service of the
// process.
type pointUse struct {
	mu      sync.Mutex
	readers map[string]int
	busy    map[string]chan struct{} // closed when the change ends
	// warmLeft holds COLD points whose warm copy could not be removed
	// yet, by ID, with their vault's name.
	warmLeft map[string]string
}

var inUse = &pointUse{readers: map[string]int{}, busy: map[string]chan struct{}{}, warmLeft: map[string]string{}}

// read marks point id as being read; it waits while the point is being
// changed. Call the returned function when done.
func (u *pointUse) read(ctx context.Context, id string) (func(), error) {
	for {
		u.mu.Lock()
		ch, busy := u.busy[id]
		if !busy {
			u.readers[id]++
			u.mu.Unlock()
			return func() {
				u.mu.Lock()
				if u.readers[id]--; u.readers[id] == 0 {
					delete(u.readers, id)
				}
				u.mu.Unlock()
			}, nil
		}
		u.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// change marks point id as being changed if nobody reads or changes it,
// and reports whether it did. Call the returned function when done.
func (u *pointUse) change(id string) (func(), bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, busy := u.busy[id]; busy || u.readers[id] > 0 {
		return nil, false
	}
	ch := make(chan struct{})
	u.busy[id] = ch
	return func() {
		u.mu.Lock()
		delete(u.busy, id)
		u.mu.Unlock()
		close(ch)
	}, true
}

// tryChange is change for callers that may go ahead beside readers
// (DeleteRecoveryPoint): busy reports another change in progress; otherwise
// done ends this one (a no-op if readers kept it from being marked).
func (u *pointUse) tryChange(id string) (done func(), busy bool) {
	if done, ok := u.change(id); ok {
		return done, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, busy := u.busy[id]; busy {
		return nil, true
	}
	return func() {}, false
}

func (u *pointUse) leftWarm(id, vaultName string) {
	u.mu.Lock()
	u.warmLeft[id] = vaultName
	u.mu.Unlock()
}

func (u *pointUse) takeWarmLeft() map[string]string {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.warmLeft
	u.warmLeft = map[string]string{}
	return m
}

// LifecycleTick deletes the recovery points whose lifecycle has expired
// and moves to cold storage those whose move-to-cold date has passed. A
// point a restore or copy is reading is left for a later tick. Failures
// are logged and returned together; the points they concern are tried
// again at the next tick.
func (s *Service) LifecycleTick(ctx context.Context) error {
	now := s.now()
	var errs []error
	expired, err := s.duePoints(ctx, backup.RecoveryPointFilter{DeleteDueBy: now,
		Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted, backup.RecoveryPointPartial, backup.RecoveryPointExpired}})
	if err != nil {
		return fmt.Errorf("lifecycle: list expired recovery points: %w", err)
	}
	for _, rp := range expired {
		if _, del := rp.CalculatedLifecycle(); del.IsZero() || del.After(now) {
			continue
		}
		if err := s.expire(ctx, rp); err != nil {
			errs = append(errs, err)
		}
	}
	due, err := s.duePoints(ctx, backup.RecoveryPointFilter{ColdDueBy: now, StorageClass: backup.StorageWarm,
		Statuses: []backup.RecoveryPointStatus{backup.RecoveryPointCompleted}})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("lifecycle: list recovery points due for cold storage: %w", err))...)
	}
	for _, rp := range due {
		if cold, _ := rp.CalculatedLifecycle(); cold.IsZero() || cold.After(now) {
			continue
		}
		if err := s.moveToCold(ctx, rp.ID); err != nil {
			errs = append(errs, err)
		}
	}
	for id, vaultName := range inUse.takeWarmLeft() {
		if err := s.removeWarm(ctx, id, vaultName); err != nil {
			errs = append(errs, err)
		}
	}
	if s.sweepDue() {
		vaults, err := s.allVaults(ctx)
		if err == nil {
			err = s.sweep(ctx, vaults, s.storageConflicts(vaults))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep: %w", err))
		}
	}
	return errors.Join(errs...)
}

// duePoints lists every point that matches f.
func (s *Service) duePoints(ctx context.Context, f backup.RecoveryPointFilter) ([]*backup.RecoveryPoint, error) {
	f.MaxResults = 1000
	var all []*backup.RecoveryPoint
	for {
		page, next, err := s.cfg.Catalog.ListRecoveryPoints(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		f.NextToken = next
	}
}

// expire deletes a point whose retention has passed. If the deletion
// fails, the point is left EXPIRED with the reason.
func (s *Service) expire(ctx context.Context, rp *backup.RecoveryPoint) error {
	done, ok := inUse.change(rp.ID)
	if !ok {
		s.log.Info("expired recovery point is being read; it is deleted at a later pass", "recovery_point", rp.ARN)
		return nil
	}
	defer done()
	rp.Status = backup.RecoveryPointDeleting
	if err := s.cfg.Catalog.UpdateRecoveryPoint(ctx, rp); err != nil {
		return fmt.Errorf("lifecycle: expire %s: %w", rp.ARN, err)
	}
	err := s.purgePoint(ctx, rp)
	if err == nil {
		s.log.Info("recovery point expired and deleted", "recovery_point", rp.ARN, "vault", rp.VaultName)
		return nil
	}
	rp.Status = backup.RecoveryPointExpired
	rp.StatusMessage = "the retention period has passed but the recovery point could not be deleted: " + causeMessage(err) +
		"; cairn tries again at every lifecycle pass"
	if uerr := s.cfg.Catalog.UpdateRecoveryPoint(context.WithoutCancel(ctx), rp); uerr != nil {
		s.log.Error("record expired recovery point", "recovery_point", rp.ARN, "err", uerr)
	}
	if perr := s.persistPoint(context.WithoutCancel(ctx), rp); perr != nil {
		s.log.Warn("cannot write the expired recovery point's record", "recovery_point", rp.ARN, "err", perr)
	}
	s.log.Error("cannot delete expired recovery point", "recovery_point", rp.ARN, "vault", rp.VaultName, "err", err)
	return fmt.Errorf("lifecycle: delete expired %s: %w", rp.ARN, err)
}

// moveToCold moves point id to its vault's cold storage if it is still a
// WARM, COMPLETED point due for it. Every step can be repeated.
func (s *Service) moveToCold(ctx context.Context, id string) error {
	done, ok := inUse.change(id)
	if !ok {
		s.log.Info("recovery point due for cold storage is being read; it moves at a later pass", "recovery_point", id)
		return nil
	}
	defer done()
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
	if backup.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lifecycle: %w", err)
	}
	if cold, _ := rp.CalculatedLifecycle(); rp.Status != backup.RecoveryPointCompleted || rp.StorageClass == backup.StorageCold ||
		cold.IsZero() || cold.After(s.now()) {
		return nil
	}
	v, err := s.cfg.Catalog.GetVault(ctx, rp.VaultName)
	if err != nil {
		return fmt.Errorf("lifecycle: move %s to cold storage: %w", rp.ARN, err)
	}
	log := s.log.With("recovery_point", rp.ARN, "vault", v.Name)
	fail := func(err error) error {
		log.Error("cannot move recovery point to cold storage; it stays WARM and is tried again at the next pass", "err", err)
		return fmt.Errorf("lifecycle: move %s to cold storage: %w", rp.ARN, err)
	}
	warm, err := s.store(ctx, v)
	if err != nil {
		return fail(err)
	}
	switch v.Storage.Kind {
	case backup.StorageFile:
		cold, err := s.coldStore(ctx, v, true)
		if err != nil {
			return fail(err)
		}
		if cold == warm {
			return fail(fmt.Errorf("the cold storage of vault %s is its warm storage", v.Name))
		}
		if _, err := vault.Copy(ctx, vault.New(warm), id, vault.New(cold), id, vault.CopyOptions{Started: startedFor(v, id)}); err != nil {
			if derr := vault.New(cold).Delete(context.WithoutCancel(ctx), id); derr != nil {
				log.Warn("cannot remove the partial cold copy; the next pass replaces it", "err", derr)
			}
			return fail(err)
		}
		rp.StatusMessage = ""
		// The cold copy's record says COLD; the warm copy's keeps saying
		// WARM until it is removed, and a rebuild prefers the warm copy.
		coldRP := *rp
		coldRP.StorageClass = backup.StorageCold
		if err := putPointRecord(ctx, vault.New(cold), &coldRP); err != nil {
			return fail(err)
		}
	case backup.StorageS3:
		class := v.Storage.ColdClass()
		res, err := vault.New(warm).Transition(ctx, id, class)
		if err != nil {
			return fail(err)
		}
		rp.StatusMessage = ""
		if len(res.Ignored) > 0 {
			rp.StatusMessage = fmt.Sprintf("in cold storage, but the S3 server at %s keeps its data files in storage class %s: "+
				"it ignored storage class %s (cold storage then costs what warm storage does)", endpointName(v.Storage), res.ReportedClass, class)
			log.Warn("the S3 server ignored the cold storage class", "class", class, "reported", res.ReportedClass, "files", len(res.Ignored))
		}
		coldRP := *rp
		coldRP.StorageClass = backup.StorageCold
		if err := putPointRecord(ctx, vault.New(warm), &coldRP); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("unknown storage kind %q", v.Storage.Kind))
	}
	rp.StorageClass = backup.StorageCold
	if err := s.cfg.Catalog.UpdateRecoveryPoint(context.WithoutCancel(ctx), rp); err != nil {
		return fail(fmt.Errorf("mark COLD: %w", err))
	}
	log.Info("recovery point moved to cold storage")
	if v.Storage.Kind == backup.StorageFile {
		if err := vault.New(warm).Delete(ctx, id); err != nil {
			inUse.leftWarm(id, v.Name)
			log.Warn("recovery point is COLD but its warm copy could not be removed yet; the next pass removes it", "err", err)
		}
	}
	return nil
}

func endpointName(st backup.VaultStorage) string {
	if st.Endpoint == "" {
		return "AWS S3"
	}
	return st.Endpoint
}

// removeWarm removes the warm copy of COLD point id in a file vault.
func (s *Service) removeWarm(ctx context.Context, id, vaultName string) error {
	rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
	if backup.IsNotFound(err) {
		return nil // deleted, warm copy and all
	}
	if err != nil {
		inUse.leftWarm(id, vaultName)
		return err
	}
	if rp.StorageClass != backup.StorageCold {
		return nil // not cold: the warm copy is the point
	}
	v, err := s.cfg.Catalog.GetVault(ctx, vaultName)
	if err != nil {
		if backup.IsNotFound(err) {
			return nil
		}
		inUse.leftWarm(id, vaultName)
		return err
	}
	warm, err := s.store(ctx, v)
	if err == nil {
		err = vault.New(warm).Delete(ctx, id)
	}
	if err != nil {
		inUse.leftWarm(id, vaultName)
		return fmt.Errorf("lifecycle: remove warm copy of %s: %w", id, err)
	}
	return nil
}

// pointVault returns the vault a point's data is read from: a file vault's
// cold directory for a COLD point, the vault's own storage otherwise.
func (s *Service) pointVault(ctx context.Context, rp *backup.RecoveryPoint) (*vault.Vault, error) {
	v, err := s.cfg.Catalog.GetVault(ctx, rp.VaultName)
	if err != nil {
		return nil, err
	}
	if rp.StorageClass == backup.StorageCold && v.Storage.Kind == backup.StorageFile {
		cold, err := s.coldStore(ctx, v, true)
		if err != nil {
			return nil, err
		}
		return vault.New(cold), nil
	}
	store, err := s.store(ctx, v)
	if err != nil {
		return nil, err
	}
	return vault.New(store), nil
}

// UpdateRecoveryPointLifecycle sets a recovery point's lifecycle, as AWS
// does: the days count from the point's creation, DeleteAfterDays must be
// at least MoveToColdStorageAfterDays + 90, and a point already in cold
// storage keeps its MoveToColdStorageAfterDays. Dates that have passed take
// effect at the next lifecycle pass.
func (s *Service) UpdateRecoveryPointLifecycle(ctx context.Context, vaultName, arn string, l backup.Lifecycle) (*backup.RecoveryPoint, error) {
	if err := backup.ValidateLifecycle(l); err != nil {
		return nil, err
	}
	rp, err := s.GetRecoveryPoint(ctx, vaultName, arn)
	if err != nil {
		return nil, err
	}
	switch rp.Status {
	case backup.RecoveryPointCompleted, backup.RecoveryPointPartial, backup.RecoveryPointExpired:
	default:
		return nil, backup.Errorf(backup.ErrInvalidRequest, "recovery point %s is %s; only a completed recovery point has a lifecycle to update", arn, rp.Status)
	}
	if rp.StorageClass == backup.StorageCold && l.MoveToColdStorageAfterDays != rp.Lifecycle.MoveToColdStorageAfterDays {
		return nil, backup.Errorf(backup.ErrInvalidParameter,
			"recovery point %s is in cold storage already: its MoveToColdStorageAfterDays (%d) cannot change; send it unchanged with the new DeleteAfterDays",
			arn, rp.Lifecycle.MoveToColdStorageAfterDays)
	}
	prev := rp.Lifecycle
	rp.Lifecycle = l
	// The record beside the data first: if it cannot be written, nothing
	// changes.
	if err := s.persistPoint(ctx, rp); err != nil {
		return nil, fmt.Errorf("cannot write the new lifecycle beside the recovery point's data; nothing was changed: %w", err)
	}
	if err := s.cfg.Catalog.UpdateRecoveryPoint(ctx, rp); err != nil {
		rp.Lifecycle = prev
		if perr := s.persistPoint(context.WithoutCancel(ctx), rp); perr != nil {
			s.log.Error("the recovery point's record has a lifecycle the catalog does not", "recovery_point", rp.ARN, "err", perr)
		}
		return nil, err
	}
	s.refreshPointRecord(ctx, rp.ID) // with tags changed meanwhile, if any
	cold, del := rp.CalculatedLifecycle()
	s.log.Info("recovery point lifecycle updated", "recovery_point", rp.ARN, "move_to_cold_at", cold, "delete_at", del)
	return rp, nil
}

// recoverLifecycle finishes what a killed process left half done: in file
// vaults, the warm copies of COLD points are removed, and cold copies of
// points that are not COLD are finished (if complete and due) or removed.
// It runs at the end of Recover (which recovers copy jobs itself), and
// touches only vaults whose storage is proven theirs (see storage.go).
func (s *Service) recoverLifecycle(ctx context.Context) error {
	vaults, err := s.allVaults(ctx)
	if err != nil {
		return err
	}
	conflicts := s.storageConflicts(vaults)
	for _, v := range vaults {
		if v.Storage.Kind != backup.StorageFile {
			continue
		}
		if err := s.recoverColdMoves(ctx, v, conflicts); errors.Is(err, errNotOwned) {
			s.log.Warn("cold moves of vault not recovered: its storage is left alone", "vault", v.Name, "reason", err)
		} else if err != nil {
			s.log.Warn("cannot finish the cold moves of vault", "vault", v.Name, "err", err)
		}
	}
	return nil
}

// recoverColdMoves cleans up the cold moves of one file vault. It deletes
// only copies of points the catalog lists for this vault (and, in the
// cold directory, incomplete points the catalog does not know that are
// proven this vault's), and a copy only while the other copy checks out.
func (s *Service) recoverColdMoves(ctx context.Context, v *backup.Vault, conflicts map[string]string) error {
	warm, err := s.store(ctx, v)
	if err != nil {
		return err
	}
	if err := s.owns(ctx, v, warm, roleWarm, conflicts); err != nil {
		return err
	}
	cold, err := s.coldStore(ctx, v, false)
	if err != nil {
		return err
	}
	if cold != nil {
		if err := s.owns(ctx, v, cold, roleCold, conflicts); err != nil {
			return err
		}
	}
	wv := vault.New(warm)
	complete, incomplete, err := wv.ListPoints(ctx)
	if err != nil {
		return err
	}
	for _, id := range append(complete, incomplete...) {
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
		if err != nil || rp.StorageClass != backup.StorageCold {
			continue // unknown points are swept by Recover
		}
		if rp.VaultName != v.Name {
			s.log.Warn("the storage of a vault holds a recovery point of another vault; it is left alone", "vault", v.Name, "recovery_point", id, "point_vault", rp.VaultName)
			continue
		}
		if cold == nil {
			s.log.Error("a COLD recovery point has no cold directory; its warm copy is kept", "recovery_point", rp.ARN, "vault", v.Name)
			continue
		}
		if _, err := vault.New(cold).CheckStored(ctx, id); err != nil {
			s.log.Error("the cold copy of a COLD recovery point does not check out; its warm copy is kept", "recovery_point", rp.ARN, "vault", v.Name, "err", err)
			continue
		}
		if err := wv.Delete(ctx, id); err != nil {
			return err
		}
		s.log.Info("removed the warm copy of a cold recovery point", "recovery_point", rp.ARN, "vault", v.Name)
	}
	if cold == nil {
		return nil
	}
	if rt, ok := cold.(interface{ RemoveTemp(context.Context) error }); ok {
		if err := rt.RemoveTemp(ctx); err != nil {
			return err
		}
	}
	cv := vault.New(cold)
	points, err := listStored(ctx, cold)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(points)) {
		p := points[id]
		rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id)
		switch {
		case err != nil && !backup.IsNotFound(err):
			return err
		case err != nil:
			// Not in the catalog: a complete copy is kept (it may be all
			// that is left of a point whose catalog entry was lost); an
			// incomplete one proven this vault's is removed.
			if p.complete {
				s.log.Warn("a complete cold copy the catalog does not list is kept; `cairn catalog rebuild` can list it again", "recovery_point", id, "vault", v.Name)
				continue
			}
			ok, why, err := s.mayRemoveOrphan(ctx, v, cold, id, p)
			if err != nil {
				return err
			}
			if !ok {
				s.log.Info("a partial cold copy the catalog does not know is kept", "recovery_point", id, "vault", v.Name, "reason", why)
				continue
			}
			if err := s.removeCold(ctx, cv, v, id, "removed a partial cold copy the catalog does not know"); err != nil {
				return err
			}
			continue
		case rp.VaultName != v.Name:
			s.log.Warn("the cold directory of a vault holds a recovery point of another vault; it is left alone", "vault", v.Name, "recovery_point", id, "point_vault", rp.VaultName)
			continue
		case rp.StorageClass == backup.StorageCold:
			if !p.complete {
				s.log.Error("a COLD recovery point is incomplete in cold storage", "recovery_point", rp.ARN, "vault", v.Name)
			}
			continue
		case p.complete && rp.Status == backup.RecoveryPointCompleted:
			if c, _ := rp.CalculatedLifecycle(); !c.IsZero() && !c.After(s.now()) {
				if err := s.moveToCold(ctx, id); err != nil {
					return err
				}
				continue
			}
		}
		// A copy of a point the catalog lists for this vault as WARM: a
		// move cut short. The warm copy is the point; the cold one goes,
		// but only while the warm one is there to read.
		if _, err := wv.CheckStored(ctx, id); p.complete && err != nil {
			s.log.Error("a WARM recovery point's warm copy does not check out; its cold copy is kept", "recovery_point", rp.ARN, "vault", v.Name, "err", err)
			continue
		}
		msg := "removed a partial cold copy"
		if p.complete {
			msg = "removed a cold copy the catalog does not count as cold"
		}
		if err := s.removeCold(ctx, cv, v, id, msg); err != nil {
			return err
		}
	}
	return nil
}

// removeCold deletes the cold copy of point id unless a move of this
// process is under way or has made the point COLD meanwhile.
func (s *Service) removeCold(ctx context.Context, cv *vault.Vault, v *backup.Vault, id, msg string) error {
	done, ok := inUse.change(id)
	if !ok {
		return nil
	}
	defer done()
	if rp, err := s.cfg.Catalog.GetRecoveryPoint(ctx, id); err == nil && rp.StorageClass == backup.StorageCold {
		return nil
	} else if err != nil && !backup.IsNotFound(err) {
		return err
	}
	if err := cv.Delete(ctx, id); err != nil {
		return err
	}
	s.log.Info(msg, "recovery_point", id, "vault", v.Name)
	return nil
}
