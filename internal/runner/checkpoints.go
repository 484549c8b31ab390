package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/blob"
	"github.com/cairn-backup/cairn/internal/engine"
	"github.com/cairn-backup/cairn/internal/vault"
)

// Checkpoints let a job cut short resume instead of starting over, after a
// crash (Recover queues it again) or on another node (the queue hands it
// to this one). A backup saves one per scan segment each time the
// segment's data files are durable in the vault: the key to scan on from,
// those files, and the counts and partial content checksum of their
// items (engine.SegmentState). A restore saves one per data file once all
// its items are in the table (engine.FileResult). A checkpoint names its
// target, the recovery point or the table: checkpoints of another target
// are stale and dropped. The job's checkpoints go when it ends.

// jobCheckpoints returns the job's checkpoints of target, dropping stale
// ones.
func (s *Service) jobCheckpoints(ctx context.Context, jobID, target string, log *slog.Logger) ([]*backup.Checkpoint, error) {
	cps, err := s.cfg.Catalog.ListCheckpoints(ctx, jobID)
	if err != nil {
		return nil, fmt.Errorf("read the job's checkpoints: %w", err)
	}
	for _, cp := range cps {
		if cp.Target != target {
			log.Warn("dropping checkpoints of an earlier attempt", "target", cp.Target)
			return nil, s.dropCheckpoints(ctx, jobID)
		}
	}
	return cps, nil
}

// dropCheckpoints deletes a job's checkpoints.
func (s *Service) dropCheckpoints(ctx context.Context, jobID string) error {
	if err := s.cfg.Catalog.DeleteCheckpoints(context.WithoutCancel(ctx), jobID); err != nil {
		return fmt.Errorf("delete the job's checkpoints: %w", err)
	}
	return nil
}

// hasCheckpoints reports whether a job has checkpoints (of any target).
func (s *Service) hasCheckpoints(ctx context.Context, jobID string) bool {
	cps, err := s.cfg.Catalog.ListCheckpoints(ctx, jobID)
	return err == nil && len(cps) > 0
}

// backupResume is what a backup's checkpoints give its next attempt.
type backupResume struct {
	states []engine.SegmentState
	files  []vault.FileEntry
	done   int   // segments finished
	items  int64 // items the checkpoints hold
}

func parseBackupCheckpoints(cps []*backup.Checkpoint) (*backupResume, error) {
	r := &backupResume{}
	for _, cp := range cps {
		var st engine.SegmentState
		if err := json.Unmarshal(cp.State, &st); err != nil {
			return nil, fmt.Errorf("checkpoint of segment %d: %w", cp.Part, err)
		}
		for _, f := range st.Files {
			var fe vault.FileEntry
			if err := json.Unmarshal(f, &fe); err != nil {
				return nil, fmt.Errorf("checkpoint of segment %d: data file: %w", cp.Part, err)
			}
			r.files = append(r.files, fe)
		}
		if st.Done {
			r.done++
		}
		r.items += st.Items
		r.states = append(r.states, st)
	}
	return r, nil
}

// message says where a resumed backup goes on from.
func (r *backupResume) message() string { return "resumed from checkpoints: " + r.detail() }

// detail says what the checkpoints hold.
func (r *backupResume) detail() string {
	segs := 0
	if len(r.states) > 0 {
		segs = r.states[0].Segments
	}
	return fmt.Sprintf("%d of %d scan segments finished, %d items in %d data files kept; the other segments scan on from their last checkpoint",
		r.done, segs, r.items, len(r.files))
}

// checkpointSink gives a vault.FileWriter the engine's SyncSink.
type checkpointSink struct{ *vault.FileWriter }

func (f checkpointSink) Cut() (func() ([]json.RawMessage, error), error) {
	wait, err := f.FileWriter.Cut()
	if err != nil {
		return nil, err
	}
	return func() ([]json.RawMessage, error) {
		entries, err := wait()
		if err != nil {
			return nil, err
		}
		out := make([]json.RawMessage, len(entries))
		for i := range entries {
			if out[i], err = json.Marshal(&entries[i]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}, nil
}

// saveSegment returns the engine's Checkpoint function of a backup job.
func (s *Service) saveSegment(ctx context.Context, jobID, pointID string) func(engine.SegmentState) error {
	return func(st engine.SegmentState) error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return s.cfg.Catalog.SaveCheckpoint(ctx, &backup.Checkpoint{JobID: jobID, Part: st.Segment, Target: pointID,
			Done: st.Done, State: b, UpdatedAt: s.now()})
	}
}

// saveFile returns the engine's FileDone function of a restore job.
func (s *Service) saveFile(ctx context.Context, jobID, table string) func(engine.FileResult) error {
	return func(fr engine.FileResult) error {
		b, err := json.Marshal(fr)
		if err != nil {
			return err
		}
		return s.cfg.Catalog.SaveCheckpoint(ctx, &backup.Checkpoint{JobID: jobID, Part: fr.File, Target: table,
			Done: true, State: b, UpdatedAt: s.now()})
	}
}

func parseRestoreCheckpoints(cps []*backup.Checkpoint) ([]engine.FileResult, error) {
	out := make([]engine.FileResult, 0, len(cps))
	for _, cp := range cps {
		var fr engine.FileResult
		if err := json.Unmarshal(cp.State, &fr); err != nil {
			return nil, fmt.Errorf("checkpoint of data file %d: %w", cp.Part, err)
		}
		out = append(out, fr)
	}
	return out, nil
}

// resumedPoint is a backup's point reopened from its checkpoints.
type resumedPoint struct {
	*backupResume
	w *vault.Writer
}

// resumePoint reopens the partial point of a backup job from the job's
// checkpoints, if it has any: it returns the reopened writer with what
// the checkpoints hold, and replaces *rp with the point's catalog record.
// When the point cannot be resumed (gone from the catalog, a file it
// records missing) the attempt starts over: the checkpoints and whatever
// is under the point's prefix are removed, and recorded says whether the
// point is in the catalog already.
func (s *Service) resumePoint(ctx context.Context, jobID string, rp *backup.RecoveryPoint, store blob.Store, opts vault.WriterOptions, log *slog.Logger) (*resumedPoint, bool, error) {
	cps, err := s.jobCheckpoints(ctx, jobID, rp.ID, log)
	if err != nil || len(cps) == 0 {
		return nil, false, err
	}
	recorded := false
	startOver := func(why error) (*resumedPoint, bool, error) {
		log.Warn("the backup cannot resume from its checkpoints; it starts over", "err", why)
		if err := s.dropCheckpoints(ctx, jobID); err != nil {
			return nil, recorded, err
		}
		if err := blob.DeletePrefix(ctx, store, vault.PointPrefix(rp.ID)); err != nil {
			return nil, recorded, fmt.Errorf("remove the partial recovery point to start over: %w", err)
		}
		return nil, recorded, nil
	}
	cur, err := s.cfg.Catalog.GetRecoveryPoint(ctx, rp.ID)
	switch {
	case backup.IsNotFound(err):
		return startOver(fmt.Errorf("recovery point %s is not in the catalog", rp.ARN))
	case err != nil:
		return nil, false, err
	}
	recorded = true
	*rp = *cur
	if cur.Status != backup.RecoveryPointCreating { // not a partial point: leave it alone
		if err := s.dropCheckpoints(ctx, jobID); err != nil {
			return nil, true, err
		}
		return nil, true, fmt.Errorf("recovery point %s is %s, not CREATING: the backup cannot resume into it", rp.ARN, cur.Status)
	}
	r, err := parseBackupCheckpoints(cps)
	if err != nil {
		return startOver(err)
	}
	w, err := vault.New(store).Resume(ctx, rp.ID, opts, r.files)
	if err != nil {
		return startOver(err)
	}
	return &resumedPoint{backupResume: r, w: w}, true, nil
}

// restoreCheckpoints returns the data files a restore job wrote before its
// process died (nil if it has no checkpoints), once it has checked that
// the table it made is still there.
func (s *Service) restoreCheckpoints(ctx context.Context, job *backup.RestoreJob, src *Source, target string, log *slog.Logger) ([]engine.FileResult, error) {
	if job.CreatedResourceARN == "" {
		return nil, s.dropCheckpoints(ctx, job.ID)
	}
	cps, err := s.jobCheckpoints(ctx, job.ID, job.CreatedResourceARN, log)
	if err != nil || len(cps) == 0 {
		return nil, err
	}
	done, err := parseRestoreCheckpoints(cps)
	if err != nil {
		return nil, fmt.Errorf("resume the restore: %w", err)
	}
	spec, err := src.Client.DescribeTable(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("resume the restore into table %s, which the job made before the restart: %w", job.CreatedResourceARN, err)
	}
	if spec.TableArn != job.CreatedResourceARN {
		return nil, fmt.Errorf("resume the restore: table %s is %s now, not the table %s the job made; delete it and restore again",
			target, spec.TableArn, job.CreatedResourceARN)
	}
	return done, nil
}
