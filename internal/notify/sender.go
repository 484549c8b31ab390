package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/prometheus/client_golang/prometheus"
)

// Outbox is the part of the catalog the sender uses (backup.OutboxStore).
type Outbox interface {
	UnplannedEvents(ctx context.Context, limit int) ([]backup.Event, error)
	PlanDeliveries(ctx context.Context, plans []backup.DeliveryPlan, now time.Time) error
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*backup.Delivery, error)
	UpdateDeliveries(ctx context.Context, ds []*backup.Delivery) error
	AppendEvent(ctx context.Context, ev *backup.Event) error
	DeliveryCounts(ctx context.Context) (map[string]int64, error)
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Config wires a Sender. Zero values take the documented defaults.
type Config struct {
	// Leader, when set, says whether this node is the cluster's leader
	// (backup.Cluster.IsLeader): the background loop delivers only on the
	// leader, so one sender works on a catalog shared by several nodes.
	// nil: always (a server alone on its catalog).
	Leader   func() bool
	Outbox   Outbox
	Resolver Resolver
	Clock    clock.Clock
	Logger   *slog.Logger
	// Registerer receives the sender's metrics (see docs/notifications.md);
	// nil registers none.
	Registerer prometheus.Registerer

	// Interval is how often the background loop looks for new events and
	// due deliveries; default 1s.
	Interval time.Duration
	// BatchSize is how many events or deliveries are read at once, which
	// bounds the sender's memory; default 100.
	BatchSize int
	// Parallel is how many deliveries of a batch are attempted at once;
	// default 4.
	Parallel int
	// MaxAttempts is how many times a delivery is tried before it is
	// marked undeliverable; default 10.
	MaxAttempts int
	// MaxAge gives up on a delivery whose event is older than this when an
	// attempt fails; default 24h.
	MaxAge time.Duration
	// MinBackoff is the wait after the first failed attempt; it doubles
	// with each further one up to MaxBackoff. Defaults 5s and 15m.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// AttemptTimeout bounds one attempt; default 30s.
	AttemptTimeout time.Duration
	// Retention is how long events and their delivery records are kept
	// once no delivery is pending; default 30 days. Pruning runs at most
	// hourly.
	Retention time.Duration
}

func (c *Config) setDefaults() {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.Parallel <= 0 {
		c.Parallel = 4
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 5 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 15 * time.Minute
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 30 * time.Second
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
}

// Sender delivers the outbox's events. It plans each new event's
// deliveries (one per target its Resolver returns), attempts the due
// ones, and records every attempt: delivered, retried later with
// exponential backoff, or undeliverable with the reason. It reads the
// outbox in batches, so its memory does not grow with a burst of events,
// and it never touches job state: a failing target slows nothing but its
// own deliveries.
//
// One sender runs per catalog: deliveries are not claimed, so two senders
// on one catalog could send an event twice (receivers deduplicate by the
// event's ID). On a catalog shared by several nodes, Config.Leader keeps
// the loop to the leader.
type Sender struct {
	cfg Config
	m   *metrics

	// inflight holds the deliveries being attempted, so that a tick and a
	// Test never attempt one delivery at once.
	mu       sync.Mutex
	inflight map[deliveryKey]bool
	pruned   time.Time // when Tick last pruned

	stop    context.CancelFunc
	stopped chan struct{}
}

type deliveryKey struct{ event, kind, name string }

func keyOf(d *backup.Delivery) deliveryKey { return deliveryKey{d.EventID, d.TargetKind, d.TargetName} }

// New returns a sender; Start runs it in the background.
func New(cfg Config) (*Sender, error) {
	if cfg.Outbox == nil || cfg.Resolver == nil {
		return nil, errors.New("notify: a sender needs an Outbox and a Resolver")
	}
	cfg.setDefaults()
	s := &Sender{cfg: cfg, inflight: map[deliveryKey]bool{}}
	var err error
	if s.m, err = newMetrics(cfg.Registerer, cfg.Outbox); err != nil {
		return nil, err
	}
	return s, nil
}

// Start runs Tick every Interval until Shutdown.
func (s *Sender) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.stopped = cancel, make(chan struct{})
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(s.cfg.Interval)
		defer t.Stop()
		for {
			if s.cfg.Leader != nil && !s.cfg.Leader() {
				// Another node leads and sends; this one asks again next tick.
			} else if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("notification sender", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Shutdown stops the background loop: attempts under way are cancelled
// (and retried at the next start), and it returns once the loop has ended
// or ctx is done.
func (s *Sender) Shutdown(ctx context.Context) {
	if s.stop == nil {
		return
	}
	s.stop()
	select {
	case <-s.stopped:
	case <-ctx.Done():
	}
}

// Tick plans the deliveries of new events and attempts the deliveries
// due now, batch after batch until none is left.
func (s *Sender) Tick(ctx context.Context) error {
	if err := s.planAll(ctx); err != nil {
		return err
	}
	if err := s.deliverDue(ctx); err != nil {
		return err
	}
	return s.prune(ctx)
}

// prune deletes events older than Retention that are done with, a batch at
// a time, at most once an hour.
func (s *Sender) prune(ctx context.Context) error {
	now := s.cfg.Clock.Now()
	if !s.pruned.IsZero() && now.Sub(s.pruned) < time.Hour {
		return nil
	}
	s.pruned = now
	total := 0
	for {
		n, err := s.cfg.Outbox.PruneEvents(ctx, now.Add(-s.cfg.Retention), s.cfg.BatchSize)
		if err != nil {
			return fmt.Errorf("notify: prune events: %w", err)
		}
		total += n
		if n < s.cfg.BatchSize {
			break
		}
	}
	if total > 0 {
		s.cfg.Logger.Info("pruned notification events", "count", total, "retention", s.cfg.Retention)
	}
	return nil
}

// planAll plans the deliveries of every event not yet planned, a batch
// (one catalog transaction, one reading of the targets' configuration) at
// a time.
func (s *Sender) planAll(ctx context.Context) error {
	for {
		evs, err := s.cfg.Outbox.UnplannedEvents(ctx, s.cfg.BatchSize)
		if err != nil {
			return fmt.Errorf("notify: read the outbox: %w", err)
		}
		if len(evs) == 0 {
			return nil
		}
		r, err := snapshot(ctx, s.cfg.Resolver)
		if err != nil {
			return fmt.Errorf("notify: notification targets: %w", err)
		}
		if _, err := s.plan(ctx, r, evs); err != nil {
			return err
		}
		if len(evs) < s.cfg.BatchSize {
			return nil
		}
	}
}

// plan records one pending delivery per target r gives each event and
// returns them.
func (s *Sender) plan(ctx context.Context, r Resolver, evs []backup.Event) ([]*backup.Delivery, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	now := s.cfg.Clock.Now()
	plans := make([]backup.DeliveryPlan, 0, len(evs))
	var ds []*backup.Delivery
	for _, ev := range evs {
		targets, err := r.Targets(ctx, ev)
		if err != nil {
			return nil, fmt.Errorf("notify: targets of event %s: %w", ev.ID, err)
		}
		p := backup.DeliveryPlan{EventID: ev.ID}
		seen := map[backup.DeliveryTarget]bool{}
		for _, t := range targets {
			ref := backup.DeliveryTarget{Kind: t.Kind(), Name: t.Name()}
			if seen[ref] {
				continue
			}
			seen[ref] = true
			p.Targets = append(p.Targets, ref)
			ds = append(ds, &backup.Delivery{EventID: ev.ID, TargetKind: ref.Kind, TargetName: ref.Name,
				Status: backup.DeliveryPending, CreatedAt: now, NextAttemptAt: now, Event: ev})
		}
		plans = append(plans, p)
	}
	if err := s.cfg.Outbox.PlanDeliveries(ctx, plans, now); err != nil {
		return nil, fmt.Errorf("notify: plan deliveries: %w", err)
	}
	return ds, nil
}

// deliverDue attempts the due deliveries, a batch (one reading of the
// targets' configuration) at a time.
func (s *Sender) deliverDue(ctx context.Context) error {
	for {
		due, err := s.cfg.Outbox.DueDeliveries(ctx, s.cfg.Clock.Now(), s.cfg.BatchSize)
		if err != nil {
			return fmt.Errorf("notify: read due deliveries: %w", err)
		}
		if len(due) == 0 {
			return nil
		}
		r, err := snapshot(ctx, s.cfg.Resolver)
		if err != nil {
			return fmt.Errorf("notify: notification targets: %w", err)
		}
		n, err := s.attemptAll(ctx, r, due)
		if err != nil {
			return err
		}
		// A full batch of deliveries another call is attempting (Test)
		// would be read again and again: leave them to the next tick.
		if len(due) < s.cfg.BatchSize || n == 0 {
			return nil
		}
	}
}

// attemptAll attempts ds to the targets r gives, Parallel at a time,
// records the outcomes in one catalog transaction, and returns how many it
// attempted.
func (s *Sender) attemptAll(ctx context.Context, r Resolver, ds []*backup.Delivery) (int, error) {
	sem := make(chan struct{}, s.cfg.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done, claimed []*backup.Delivery
	defer func() {
		for _, d := range claimed {
			s.release(d)
		}
	}()
	for _, d := range ds {
		if !s.claim(d) {
			continue
		}
		claimed = append(claimed, d)
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if s.attempt(ctx, r, d) {
				mu.Lock()
				done = append(done, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := s.record(ctx, done); err != nil {
		return 0, err
	}
	return len(claimed), ctx.Err()
}

// record stores the outcome of attempts.
func (s *Sender) record(ctx context.Context, done []*backup.Delivery) error {
	if len(done) == 0 {
		return nil
	}
	if err := s.cfg.Outbox.UpdateDeliveries(context.WithoutCancel(ctx), done); err != nil {
		return fmt.Errorf("notify: record %d deliveries: %w", len(done), err)
	}
	return nil
}

func (s *Sender) claim(d *backup.Delivery) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight[keyOf(d)] {
		return false
	}
	s.inflight[keyOf(d)] = true
	return true
}

func (s *Sender) release(d *backup.Delivery) {
	s.mu.Lock()
	delete(s.inflight, keyOf(d))
	s.mu.Unlock()
}

// attempt delivers d once to the target r gives it and sets its outcome
// in d; false if it made no attempt (stopped, or the configuration could
// not be read), leaving d due as it was.
func (s *Sender) attempt(ctx context.Context, r Resolver, d *backup.Delivery) bool {
	if ctx.Err() != nil {
		return false
	}
	target, err := targetOf(ctx, r, d)
	if err != nil {
		// The configuration could not be read: try again later without
		// counting an attempt.
		s.cfg.Logger.Warn("notification targets", "event", d.EventID, "error", err)
		return false
	}
	var sendErr error
	start := time.Now()
	if target == nil {
		sendErr = &PermanentError{Err: fmt.Errorf("%s target %s no longer wants %s events", d.TargetKind, d.TargetName, d.Event.Type)}
	} else {
		actx, cancel := context.WithTimeout(ctx, s.cfg.AttemptTimeout)
		sendErr = target.Deliver(actx, d.Event)
		cancel()
		if ctx.Err() != nil {
			// Stopped mid-attempt: the delivery stays due, untouched.
			return false
		}
		s.m.observe(d.TargetKind, time.Since(start))
	}
	now := s.cfg.Clock.Now()
	d.Attempts++
	d.LastAttemptAt = now
	// The logger with the delivery's attributes is made only when
	// something is logged: a delivered event logs nothing above Debug.
	log := func() *slog.Logger {
		return s.cfg.Logger.With("event", d.EventID, "event_type", string(d.Event.Type), "vault", d.Event.VaultName,
			"target_kind", d.TargetKind, "target", d.TargetName, "attempts", d.Attempts)
	}
	var perm *PermanentError
	switch {
	case sendErr == nil:
		d.Status, d.LastError, d.DeliveredAt, d.NextAttemptAt = backup.DeliveryDelivered, "", now, time.Time{}
		s.m.count(d.TargetKind, "delivered")
		if s.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
			log().Debug("notification delivered")
		}
	case errors.As(sendErr, &perm):
		d.Status, d.LastError, d.NextAttemptAt = backup.DeliveryUndeliverable, sendErr.Error(), time.Time{}
		s.m.count(d.TargetKind, "undeliverable")
		log().Warn("notification undeliverable", "error", sendErr)
	case d.Attempts >= s.cfg.MaxAttempts:
		d.Status, d.NextAttemptAt = backup.DeliveryUndeliverable, time.Time{}
		d.LastError = fmt.Sprintf("gave up after %d attempts: %v", d.Attempts, sendErr)
		s.m.count(d.TargetKind, "undeliverable")
		log().Warn("notification undeliverable", "error", d.LastError)
	case now.Sub(d.Event.Time) >= s.cfg.MaxAge:
		d.Status, d.NextAttemptAt = backup.DeliveryUndeliverable, time.Time{}
		d.LastError = fmt.Sprintf("gave up %s after the event, after %d attempts: %v", s.cfg.MaxAge, d.Attempts, sendErr)
		s.m.count(d.TargetKind, "undeliverable")
		log().Warn("notification undeliverable", "error", d.LastError)
	default:
		d.Status, d.LastError = backup.DeliveryPending, sendErr.Error()
		d.NextAttemptAt = now.Add(s.Backoff(d.Attempts))
		s.m.count(d.TargetKind, "failed")
		log().Info("notification failed; retrying", "error", sendErr, "next_attempt", d.NextAttemptAt)
	}
	return true
}

// Backoff is the wait after the n-th failed attempt (n >= 1): MinBackoff,
// doubled each time, at most MaxBackoff.
func (s *Sender) Backoff(n int) time.Duration {
	b := s.cfg.MinBackoff
	for i := 1; i < n && b < s.cfg.MaxBackoff; i++ {
		b *= 2
	}
	return min(b, s.cfg.MaxBackoff)
}

// targetOf returns the target d goes to as the configuration stands in r,
// or nil if it no longer wants d's event.
func targetOf(ctx context.Context, r Resolver, d *backup.Delivery) (Target, error) {
	ts, err := r.Targets(ctx, d.Event)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.Kind() == d.TargetKind && t.Name() == d.TargetName {
			return t, nil
		}
	}
	return nil, nil
}

// Test records ev (normally a backup.EventTest) in the outbox, plans its
// deliveries and attempts each once now, and returns them as they stand:
// failed ones are retried like any other.
func (s *Sender) Test(ctx context.Context, ev backup.Event) ([]*backup.Delivery, error) {
	if ev.Time.IsZero() {
		ev.Time = s.cfg.Clock.Now()
	}
	if err := s.cfg.Outbox.AppendEvent(ctx, &ev); err != nil {
		return nil, fmt.Errorf("notify: record test event: %w", err)
	}
	// Claimed before they are planned, so that the background loop does
	// not attempt them beside this call.
	targets, err := s.cfg.Resolver.Targets(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("notify: targets of test event: %w", err)
	}
	var claimed []*backup.Delivery
	defer func() {
		for _, d := range claimed {
			s.release(d)
		}
	}()
	for _, t := range targets {
		d := &backup.Delivery{EventID: ev.ID, TargetKind: t.Kind(), TargetName: t.Name()}
		if s.claim(d) {
			claimed = append(claimed, d)
		}
	}
	ds, err := s.plan(ctx, s.cfg.Resolver, []backup.Event{ev})
	if err != nil {
		return nil, err
	}
	var done []*backup.Delivery
	for _, d := range ds {
		if s.attempt(ctx, s.cfg.Resolver, d) {
			done = append(done, d)
		}
	}
	if err := s.record(ctx, done); err != nil {
		return nil, err
	}
	return ds, nil
}

// metrics are the sender's Prometheus metrics.
type metrics struct {
	attempts *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, outbox Outbox) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_notification_attempts_total",
			Help: "Notification delivery attempts by target kind and result (delivered, failed: retried later, undeliverable: given up).",
		}, []string{"kind", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_notification_attempt_duration_seconds",
			Help:    "How long one notification delivery attempt took, by target kind.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.attempts, m.duration, &deliveriesCollector{outbox: outbox}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("notify: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) count(kind, result string) { m.attempts.WithLabelValues(kind, result).Inc() }

func (m *metrics) observe(kind string, d time.Duration) {
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}

// deliveriesCollector reads the number of deliveries in each status from
// the outbox when scraped.
type deliveriesCollector struct{ outbox Outbox }

var deliveriesDesc = prometheus.NewDesc("cairn_notification_deliveries",
	"Notification deliveries recorded in the catalog, by status (PENDING, DELIVERED, UNDELIVERABLE).",
	[]string{"status"}, nil)

func (c *deliveriesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- deliveriesDesc }

func (c *deliveriesCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.outbox.DeliveryCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(deliveriesDesc, err)
		return
	}
	for _, st := range []string{backup.DeliveryPending, backup.DeliveryDelivered, backup.DeliveryUndeliverable} {
		ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
