package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

var t0 = time.Date(2026, 12, 3, 5, 0, 0, 0, time.UTC)

// target records what it is sent; fail, if set, decides each attempt's
// error from the attempt's number (1, 2, ...).
type target struct {
	kind, name string
	fail       func(n int) error

	mu   sync.Mutex
	got  []backup.Event
	sent int
}

func (t *target) Kind() string { return t.kind }
func (t *target) Name() string { return t.name }
func (t *target) Deliver(_ context.Context, ev backup.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sent++
	if t.fail != nil {
		if err := t.fail(t.sent); err != nil {
			return err
		}
	}
	t.got = append(t.got, ev)
	return nil
}

func (t *target) received() []backup.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]backup.Event(nil), t.got...)
}

// resolver gives every event every target in ts.
type resolver struct {
	mu sync.Mutex
	ts []notify.Target
}

func (r *resolver) Targets(context.Context, backup.Event) ([]notify.Target, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Target(nil), r.ts...), nil
}

type fixture struct {
	cat   *sqlite.Catalog
	clk   *clock.Fake
	reg   *prometheus.Registry
	s     *notify.Sender
	res   *resolver
	calls *countingOutbox
}

// countingOutbox records the largest batch the sender read.
type countingOutbox struct {
	*sqlite.Catalog
	mu       sync.Mutex
	maxBatch int
}

func (o *countingOutbox) note(n int) {
	o.mu.Lock()
	o.maxBatch = max(o.maxBatch, n)
	o.mu.Unlock()
}

func (o *countingOutbox) UnplannedEvents(ctx context.Context, limit int) ([]backup.Event, error) {
	evs, err := o.Catalog.UnplannedEvents(ctx, limit)
	o.note(len(evs))
	return evs, err
}

func (o *countingOutbox) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*backup.Delivery, error) {
	ds, err := o.Catalog.DueDeliveries(ctx, now, limit)
	o.note(len(ds))
	return ds, err
}

func newFixture(t *testing.T, adjust func(*notify.Config), targets ...notify.Target) *fixture {
	t.Helper()
	cat, err := sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	f := &fixture{cat: cat, clk: clock.NewFake(t0), reg: prometheus.NewRegistry(), res: &resolver{ts: targets}}
	f.calls = &countingOutbox{Catalog: cat}
	cfg := notify.Config{Outbox: f.calls, Resolver: f.res, Clock: f.clk, Registerer: f.reg}
	if adjust != nil {
		adjust(&cfg)
	}
	if f.s, err = notify.New(cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) event(t *testing.T, typ backup.EventType) backup.Event {
	t.Helper()
	ev := backup.Event{Type: typ, Time: f.clk.Now(), VaultName: "Default", JobID: "job-1", State: "FAILED"}
	if err := f.cat.AppendEvent(t.Context(), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func (f *fixture) tick(t *testing.T) {
	t.Helper()
	if err := f.s.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) deliveries(t *testing.T, eventID string) map[string]*backup.Delivery {
	t.Helper()
	ds, _, err := f.cat.ListDeliveries(t.Context(), backup.DeliveryFilter{EventID: eventID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*backup.Delivery{}
	for _, d := range ds {
		out[d.TargetName] = d
	}
	return out
}

// metric returns the value of the sample of name whose labels include
// want (k=v pairs).
func (f *fixture) metric(t *testing.T, name string, want ...string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for i := 0; i < len(want); i += 2 {
				if labels[want[i]] != want[i+1] {
					continue next
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	return 0
}

var errDown = errors.New("connection refused")

func TestRetriesWithBackoffThenDelivers(t *testing.T) {
	flaky := &target{kind: "webhook", name: "flaky", fail: func(n int) error {
		if n <= 3 {
			return errDown
		}
		return nil
	}}
	f := newFixture(t, nil, flaky)
	ev := f.event(t, backup.EventBackupJobFailed)

	f.tick(t)
	d := f.deliveries(t, ev.ID)["flaky"]
	if d.Status != backup.DeliveryPending || d.Attempts != 1 || d.LastError != "connection refused" || !d.NextAttemptAt.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("after the first attempt: %+v", d)
	}
	// Backoff doubles: 5s, 10s, 20s. Nothing is tried before it is due.
	for i, wait := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
		f.clk.Advance(wait - time.Millisecond)
		f.tick(t)
		if got := f.deliveries(t, ev.ID)["flaky"].Attempts; got != i+1 {
			t.Fatalf("attempts before the retry is due: %d, want %d", got, i+1)
		}
		f.clk.Advance(time.Millisecond)
		f.tick(t)
	}
	d = f.deliveries(t, ev.ID)["flaky"]
	if d.Status != backup.DeliveryDelivered || d.Attempts != 4 || d.LastError != "" || !d.DeliveredAt.Equal(t0.Add(35*time.Second)) {
		t.Fatalf("after the fourth attempt: %+v", d)
	}
	if got := flaky.received(); len(got) != 1 || got[0].ID != ev.ID {
		t.Fatalf("received %v, want the event once", got)
	}
	if v := f.metric(t, "cairn_notification_attempts_total", "kind", "webhook", "result", "failed"); v != 3 {
		t.Errorf("failed attempts metric: %v, want 3", v)
	}
	if v := f.metric(t, "cairn_notification_attempts_total", "kind", "webhook", "result", "delivered"); v != 1 {
		t.Errorf("delivered metric: %v, want 1", v)
	}
	if v := f.metric(t, "cairn_notification_deliveries", "status", "DELIVERED"); v != 1 {
		t.Errorf("deliveries gauge: %v, want 1", v)
	}
}

func TestGivesUpWithTheReason(t *testing.T) {
	down := &target{kind: "webhook", name: "down", fail: func(int) error { return errDown }}
	refused := &target{kind: "email", name: "refused", fail: func(int) error {
		return &notify.PermanentError{Err: errors.New("550 mailbox unavailable")}
	}}
	f := newFixture(t, func(c *notify.Config) { c.MaxAttempts = 3 }, down, refused)
	ev := f.event(t, backup.EventBackupJobFailed)
	for range 10 {
		f.tick(t)
		f.clk.Advance(time.Hour)
	}
	ds := f.deliveries(t, ev.ID)
	if d := ds["down"]; d.Status != backup.DeliveryUndeliverable || d.Attempts != 3 ||
		d.LastError != "gave up after 3 attempts: connection refused" {
		t.Errorf("down: %+v", d)
	}
	if d := ds["refused"]; d.Status != backup.DeliveryUndeliverable || d.Attempts != 1 || d.LastError != "550 mailbox unavailable" {
		t.Errorf("refused: %+v", d)
	}
	if v := f.metric(t, "cairn_notification_deliveries", "status", "UNDELIVERABLE"); v != 2 {
		t.Errorf("undeliverable gauge: %v, want 2", v)
	}

	// MaxAge: an event older than it is given up at its next failure.
	g := newFixture(t, func(c *notify.Config) { c.MaxAge = time.Minute }, down)
	ev = g.event(t, backup.EventBackupJobFailed)
	g.tick(t)
	g.clk.Advance(2 * time.Minute)
	g.tick(t)
	if d := g.deliveries(t, ev.ID)["down"]; d.Status != backup.DeliveryUndeliverable || d.Attempts != 2 ||
		!strings.HasPrefix(d.LastError, "gave up 1m0s after the event, after 2 attempts") {
		t.Errorf("after MaxAge: %+v", d)
	}
}

func TestOneFailingTargetNeverDuplicatesAnother(t *testing.T) {
	good := &target{kind: "sns", name: "good"}
	bad := &target{kind: "webhook", name: "bad", fail: func(int) error { return errDown }}
	f := newFixture(t, nil, good, bad)
	ev := f.event(t, backup.EventBackupJobFailed)
	for range 8 {
		f.tick(t)
		f.clk.Advance(time.Hour)
	}
	if got := good.received(); len(got) != 1 {
		t.Fatalf("the good target received %d messages, want 1", len(got))
	}
	if d := f.deliveries(t, ev.ID)["bad"]; d.Status != backup.DeliveryPending || d.Attempts != 8 {
		t.Errorf("bad: %+v", d)
	}
}

func TestRemovedTargetIsNotSentTo(t *testing.T) {
	bad := &target{kind: "sns", name: "arn:aws:sns:us-east-1:000000000000:old", fail: func(int) error { return errDown }}
	f := newFixture(t, nil, bad)
	ev := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	f.res.mu.Lock()
	f.res.ts = nil
	f.res.mu.Unlock()
	f.clk.Advance(time.Hour)
	f.tick(t)
	d := f.deliveries(t, ev.ID)[bad.name]
	if d.Status != backup.DeliveryUndeliverable || !strings.Contains(d.LastError, "no longer wants BACKUP_JOB_FAILED") || bad.sent != 1 {
		t.Errorf("after the target was removed: %+v (sent %d)", d, bad.sent)
	}
}

func TestBurstInBoundedBatches(t *testing.T) {
	sink := &target{kind: "webhook", name: "sink"}
	f := newFixture(t, func(c *notify.Config) { c.BatchSize = 10 }, sink)
	const n = 1000
	for range n {
		f.event(t, backup.EventBackupJobCompleted)
	}
	f.tick(t)
	got := sink.received()
	if len(got) != n {
		t.Fatalf("delivered %d events, want %d", len(got), n)
	}
	ids := map[string]bool{}
	for _, ev := range got {
		ids[ev.ID] = true
	}
	if len(ids) != n {
		t.Errorf("%d distinct events delivered, want %d", len(ids), n)
	}
	if f.calls.maxBatch > 10 {
		t.Errorf("the sender read %d rows at once, more than its batch of 10", f.calls.maxBatch)
	}
}

func TestPrunesOldEvents(t *testing.T) {
	sink := &target{kind: "webhook", name: "sink"}
	down := &target{kind: "webhook", name: "down", fail: func(int) error { return errDown }}
	f := newFixture(t, func(c *notify.Config) {
		c.Retention = 48 * time.Hour
		c.MaxAge = 1000 * time.Hour
		c.MaxAttempts = 1000
	}, sink)
	old := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	f.res.ts = []notify.Target{down}
	stuck := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	f.clk.Advance(72 * time.Hour)
	f.tick(t)
	if len(f.deliveries(t, old.ID)) != 0 {
		t.Error("a delivered event older than the retention was kept")
	}
	if d := f.deliveries(t, stuck.ID)["down"]; d == nil || d.Status != backup.DeliveryPending {
		t.Errorf("an event still being delivered was pruned: %+v", d)
	}
}

func TestTestSendsOnceToEveryTarget(t *testing.T) {
	good := &target{kind: "sns", name: "good"}
	bad := &target{kind: "webhook", name: "bad", fail: func(int) error { return errDown }}
	f := newFixture(t, nil, good, bad)
	ds, err := f.s.Test(t.Context(), backup.Event{Type: backup.EventTest, VaultName: "Default"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range ds {
		got[d.TargetName] = fmt.Sprintf("%s %d %s", d.Status, d.Attempts, d.LastError)
	}
	want := map[string]string{"good": "DELIVERED 1 ", "bad": "PENDING 1 connection refused"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Test: %v, want %v", got, want)
	}
	// The background work does not send it again; the failed one is retried.
	f.tick(t)
	f.clk.Advance(time.Minute)
	f.tick(t)
	if n := len(good.received()); n != 1 {
		t.Errorf("the good target received the test %d times", n)
	}
	if bad.sent != 2 {
		t.Errorf("the failing target was tried %d times, want 2", bad.sent)
	}
}
