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
