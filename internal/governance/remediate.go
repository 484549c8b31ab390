package governance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/dynamodb"
)

// remediation is the state of a write that failed: tried again RetryDelay
// after its last attempt, until MaxAttempts.
type remediation struct {
	attempts int
	next     time.Time
	lastErr  string
	gaveUp   bool
}

func pendingKey(arn, key string) string { return arn + "\x00" + key }

func (w *Worker) clearPending(arn, key string) {
	w.mu.Lock()
	delete(w.pending, pendingKey(arn, key))
	w.mu.Unlock()
}

// remediate gives t the rule's default value for its key, unless a retry
// is not due yet or the attempts are spent. It reads the tags again right
// before writing: a key set since discovery (a missing one) or changed
// since (a disallowed one) is left as it now is. It reports whether the
// table holds an allowed value afterwards, or else what stands in the way.
func (w *Worker) remediate(ctx context.Context, src *source, t *table, r *Rule, reason string, now time.Time) (bool, string) {
	k := pendingKey(t.arn, r.Key)
	w.mu.Lock()
	p := w.pending[k]
	w.mu.Unlock()
	if p != nil {
		switch {
		case p.gaveUp:
			return false, fmt.Sprintf("remediation gave up after %d attempts: %s", p.attempts, p.lastErr)
		case now.Before(p.next):
			return false, fmt.Sprintf("remediation attempt %d of %d failed (%s); next at %s",
				p.attempts, w.cfg.MaxAttempts, p.lastErr, p.next.Format(time.RFC3339))
		}
	}
	attempt := &backup.TagAttempt{Source: src.Name, ResourceARN: t.arn, ResourceName: t.name, Rule: r.Name,
		Key: r.Key, Value: r.Default, Reason: reason, Attempt: 1, Time: now}
	if p != nil {
		attempt.Attempt = p.attempts + 1
	}
	if w.cfg.DryRun || r.DryRun {
		w.mu.Lock()
		first := !w.reported[k]
		w.reported[k] = true
		w.mu.Unlock()
		if first {
			attempt.Outcome = backup.TagAttemptDryRun
			w.record(ctx, attempt)
			w.log.Info("dry run: would tag a table", "resource", t.arn, "key", r.Key, "value", r.Default, "reason", reason)
		}
		return false, fmt.Sprintf("dry run: would set %s=%s", r.Key, r.Default)
	}
	if src.tag == nil {
		return false, fmt.Sprintf("source %s cannot tag", src.Name)
	}
	// Read again: the tags may have changed since discovery.
	fresh, err := readTags(ctx, src.inv, t.arn)
	if errors.Is(err, dynamodb.ErrTableNotFound) {
		return false, "table deleted meanwhile"
	}
	if errors.Is(err, errors.ErrUnsupported) {
		return false, "the source no longer lists the table's tags"
	}
	if err == nil {
		cur, has := fresh[r.Key]
		if (has && !t.hasKey(r.Key)) || (has && cur != t.tags[r.Key]) {
			t.tags = fresh
			attempt.Outcome, attempt.Value = backup.TagAttemptSkipped, cur
			attempt.Error = fmt.Sprintf("the table carries %s=%s since discovery; left as it is", r.Key, cur)
			w.record(ctx, attempt)
			w.clearPending(t.arn, r.Key)
			return r.allowed(cur), attempt.Error
		}
		err = src.tag.TagResource(ctx, t.arn, []dynamodb.Tag{{Key: r.Key, Value: r.Default}})
	}
	if ctx.Err() != nil {
		return false, "pass cancelled"
	}
	if err != nil {
		attempt.Outcome, attempt.Error = backup.TagAttemptFailed, err.Error()
		w.record(ctx, attempt)
		np := &remediation{attempts: attempt.Attempt, next: now.Add(w.cfg.RetryDelay), lastErr: err.Error()}
		np.gaveUp = np.attempts >= w.cfg.MaxAttempts
		w.mu.Lock()
		w.pending[k] = np
		w.mu.Unlock()
		if np.gaveUp {
			w.log.Error("governance gave up tagging a table", "resource", t.arn, "key", r.Key, "attempts", np.attempts, "err", err)
			return false, fmt.Sprintf("remediation gave up after %d attempts: %s", np.attempts, np.lastErr)
		}
		w.log.Warn("governance could not tag a table; trying again later", "resource", t.arn, "key", r.Key,
			"attempt", np.attempts, "err", err)
		return false, fmt.Sprintf("remediation attempt %d of %d failed (%s); next at %s",
			np.attempts, w.cfg.MaxAttempts, np.lastErr, np.next.Format(time.RFC3339))
	}
	attempt.Outcome = backup.TagAttemptSucceeded
	w.record(ctx, attempt)
	w.clearPending(t.arn, r.Key)
	t.tags = snapshotTags(t.tags)
	if t.tags == nil {
		t.tags = map[string]string{}
	}
	t.tags[r.Key] = r.Default
	w.log.Info("governance tagged a table", "resource", t.arn, "key", r.Key, "value", r.Default, "reason", reason)
	return true, ""
}

func (t *table) hasKey(k string) bool { return hasKey(t.tags, k) }

func (w *Worker) record(ctx context.Context, a *backup.TagAttempt) {
	if err := w.cfg.Store.AddTagAttempt(ctx, a); err != nil {
		w.log.Error("cannot record a tagging attempt", "resource", a.ResourceARN, "err", err)
	}
}
