// Package notify delivers the catalog's domain events (backup.Event) to
// people: AWS Backup's vault notifications (an SNS topic per vault) and
// cairn's own targets (webhooks, email). Events wait in the catalog's
// outbox; a sender takes them from there, delivers each to every target
// whose filter accepts it, retries with backoff and records what could not
// be delivered. Delivery never blocks or fails a job.
package notify

import (
	"context"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Target delivers events to one destination (an SNS topic, a webhook URL,
// a list of email addresses).
type Target interface {
	// Kind is "sns", "webhook" or "email".
	Kind() string
	// Name identifies the target in logs, delivery records and metrics
	// (a topic ARN, a configured target's name). It never holds a secret.
	Name() string
	// Deliver sends one event. It returns nil only once the destination
	// has accepted it; an error is retried later unless it is Permanent.
	Deliver(ctx context.Context, ev backup.Event) error
}

// PermanentError marks a delivery error that retrying cannot fix (a 4xx
// answer other than 408/429, a refused address): the sender records the
// event as undeliverable at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Resolver says which targets want an event. The sender asks it when it
// first plans an event's deliveries and again before every attempt, so a
// target removed from the configuration since (a vault's notifications
// deleted) is not sent to any more. For backup.EventTest (cairn notify
// test) it returns every target of the event's vault, whatever their
// event filters.
type Resolver interface {
	// Targets returns the targets that want ev. Their (Kind, Name) pairs
	// must be unique. An error leaves the event for a later try.
	Targets(ctx context.Context, ev backup.Event) ([]Target, error)
}

// Snapshotter is a Resolver that can read its configuration once for
// many events. The sender takes a snapshot per batch of events (planning)
// or deliveries (attempts) instead of reading the configuration again for
// each, so a change of configuration (a target created, changed or
// deleted, a vault's notifications put or deleted) is seen by the next
// batch, at the latest within one tick.
type Snapshotter interface {
	Resolver
	// Snapshot returns a Resolver that answers from the configuration as
	// it is now, without reading it again. It must be safe for concurrent
	// use. An error leaves the batch for a later try.
	Snapshot(ctx context.Context) (Resolver, error)
}

// snapshot is r's Snapshot if it has one, else r.
func snapshot(ctx context.Context, r Resolver) (Resolver, error) {
	if s, ok := r.(Snapshotter); ok {
		return s.Snapshot(ctx)
	}
	return r, nil
}

// Resolvers combines resolvers: the targets of all of them, in order.
type Resolvers []Resolver

// Snapshot implements Snapshotter: the snapshots of those that take
// them, the others as they are.
func (rs Resolvers) Snapshot(ctx context.Context) (Resolver, error) {
	out := make(Resolvers, len(rs))
	for i, r := range rs {
		s, err := snapshot(ctx, r)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// Targets implements Resolver.
func (rs Resolvers) Targets(ctx context.Context, ev backup.Event) ([]Target, error) {
	var out []Target
	for _, r := range rs {
		ts, err := r.Targets(ctx, ev)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}
