package targets_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-backup/cairn/internal/backup"
	clk "github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/notify"
	"github.com/cairn-backup/cairn/internal/notify/targets"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

// The sender with the server's resolvers (a vault's SNS topic and cairn's
// own targets) over a real catalog: it reads the targets' configuration
// once per batch, not once per event, and still sees every change of it
// by the next tick.

// countingStore counts the sender's reads of the targets' configuration.
type countingStore struct {
	*sqlite.Catalog
	lists, vaults atomic.Int64
}

func (c *countingStore) ListNotificationTargets(ctx context.Context) ([]*backup.NotificationTarget, error) {
	c.lists.Add(1)
	return c.Catalog.ListNotificationTargets(ctx)
}

func (c *countingStore) GetVaultNotifications(ctx context.Context, vault string) (*backup.VaultNotifications, error) {
	c.vaults.Add(1)
	return c.Catalog.GetVaultNotifications(ctx, vault)
}

// publisher is an SNS topic that takes every message.
type publisher struct {
	mu  sync.Mutex
	got []string // topic + " " + EventId
}

func (p *publisher) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, aws.ToString(in.TopicArn)+" "+aws.ToString(in.MessageAttributes["EventId"].StringValue))
	return &sns.PublishOutput{}, nil
}

func (p *publisher) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

// receiver is a webhook endpoint answering status (204 if 0) and
// recording the event IDs it is sent.
type receiver struct {
	*httptest.Server
	status atomic.Int64
	mu     sync.Mutex
	got    []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		r.mu.Lock()
		r.got = append(r.got, q.Header.Get("Cairn-Event-Id"))
		r.mu.Unlock()
		if s := r.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

type senderFixture struct {
	store *countingStore
	m     *targets.Manager
	pub   *publisher
	clk   *clk.Fake
	s     *notify.Sender
}

func newSenderFixture(t *testing.T, batch int, configured ...*backup.NotificationTarget) *senderFixture {
	t.Helper()
	f := &senderFixture{store: &countingStore{Catalog: catalog(t)}, pub: &publisher{}, clk: clk.NewFake(clock())}
	var err error
	f.m, err = targets.New(f.store, targets.Options{Configured: configured, AllowedHosts: []string{"127.0.0.1"}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	f.s, err = notify.New(notify.Config{Outbox: f.store, Clock: f.clk, BatchSize: batch,
		Resolver: notify.Resolvers{&notify.SNSResolver{Store: f.store, Client: f.pub}, f.m}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *senderFixture) event(t *testing.T, typ backup.EventType) string {
	t.Helper()
	ev := backup.Event{Type: typ, Time: f.clk.Now(), VaultName: "Default", JobID: "job", State: "FAILED"}
	if err := f.store.AppendEvent(t.Context(), &ev); err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

func (f *senderFixture) tick(t *testing.T) {
	t.Helper()
	if err := f.s.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func (f *senderFixture) deliveries(t *testing.T, eventID string) map[string]*backup.Delivery {
	t.Helper()
	ds, _, err := f.store.ListDeliveries(t.Context(), backup.DeliveryFilter{EventID: eventID})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*backup.Delivery{}
	for _, d := range ds {
		out[d.TargetKind+" "+d.TargetName] = d
	}
	return out
}

// A burst is resolved a batch at a time: the targets and the vault's
// notifications are read once per batch the sender plans or attempts, not
// once per event (and again per attempt) as they were.
func TestSenderReadsTargetsOncePerBatch(t *testing.T) {
	rx := newReceiver(t)
	f := newSenderFixture(t, 100, &backup.NotificationTarget{Name: "bench",
		Webhook: &backup.WebhookSettings{URL: rx.URL + "/hook", Secret: "k"}})
	topic := "arn:aws:sns:us-east-1:000000000000:backups"
	if err := f.store.PutVaultNotifications(t.Context(), &backup.VaultNotifications{VaultName: "Default",
		SNSTopicARN: topic, Events: []backup.EventType{backup.EventBackupJobFailed}}); err != nil {
		t.Fatal(err)
	}
	const n = 250
	for range n {
		f.event(t, backup.EventBackupJobFailed)
	}
	f.tick(t)
	if got := len(rx.received()); got != n {
		t.Fatalf("the webhook received %d events, want %d", got, n)
	}
	if got := len(f.pub.received()); got != n {
		t.Fatalf("the topic received %d events, want %d", got, n)
	}
	// 3 batches planned (100, 100, 50 events) and 5 attempted (500
	// deliveries): at most one reading of each per batch.
	const batches = 3 + 5
	if l, v := f.store.lists.Load(), f.store.vaults.Load(); l > batches || v > batches {
		t.Errorf("for %d events the sender listed the targets %d times and read the vault's notifications %d times; want at most once per batch (%d)",
			n, l, v, batches)
	}
}

// A target created, changed (deleted and created anew, as the API does)
// or deleted, and a vault's notifications put or deleted, are seen by the
// next tick.
func TestSenderSeesTargetChangesWithinOneTick(t *testing.T) {
	a, b, flaky := newReceiver(t), newReceiver(t), newReceiver(t)
	flaky.status.Store(http.StatusServiceUnavailable)
	f := newSenderFixture(t, 100)
	ctx := t.Context()
	create := func(name, url string) {
		t.Helper()
		if _, err := f.m.CreateNotificationTarget(ctx, &backup.NotificationTarget{Name: name,
			Webhook: &backup.WebhookSettings{URL: url, Secret: "k"}}); err != nil {
			t.Fatal(err)
		}
	}
	del := func(name string) {
		t.Helper()
		if err := f.m.DeleteNotificationTarget(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	// Ticks that find nothing to do, then a target appears.
	f.tick(t)
	e0 := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	if len(f.deliveries(t, e0)) != 0 {
		t.Fatalf("an event with no target has deliveries: %v", f.deliveries(t, e0))
	}
	create("ops", a.URL+"/hook")
	e1 := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	if got := a.received(); strings.Join(got, ",") != e1 {
		t.Fatalf("after the target was created, it received %v, want %s", got, e1)
	}

	// Changed: the same name, another URL.
	del("ops")
	create("ops", b.URL+"/hook")
	e2 := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	if got := b.received(); strings.Join(got, ",") != e2 {
		t.Errorf("after the target was changed, the new URL received %v, want %s", got, e2)
	}
	if got := a.received(); len(got) != 1 {
		t.Errorf("after the target was changed, the old URL received %v", got)
	}

	// Deleted: no delivery is planned for the next event, and a delivery
	// being retried is given up as no longer wanted.
	create("flaky", flaky.URL+"/hook")
	e3 := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	if d := f.deliveries(t, e3)["webhook flaky"]; d == nil || d.Status != backup.DeliveryPending || d.Attempts != 1 {
		t.Fatalf("the failing target's delivery: %+v", d)
	}
	del("ops")
	del("flaky")
	e4 := f.event(t, backup.EventBackupJobFailed)
	f.clk.Advance(time.Hour)
	f.tick(t)
	if ds := f.deliveries(t, e4); len(ds) != 0 {
		t.Errorf("an event after the targets were deleted has deliveries: %v", ds)
	}
	if d := f.deliveries(t, e3)["webhook flaky"]; d.Status != backup.DeliveryUndeliverable || !strings.Contains(d.LastError, "no longer wants") ||
		len(flaky.received()) != 1 {
		t.Errorf("a retried delivery to a deleted target: %+v (sent %d times)", d, len(flaky.received()))
	}
	if got := b.received(); len(got) != 2 { // e2, e3
		t.Errorf("the deleted target received %v", got)
	}

	// A vault's SNS notifications, put and deleted.
	topic := "arn:aws:sns:us-east-1:000000000000:backups"
	if err := f.store.PutVaultNotifications(ctx, &backup.VaultNotifications{VaultName: "Default",
		SNSTopicARN: topic, Events: []backup.EventType{backup.EventBackupJobFailed}}); err != nil {
		t.Fatal(err)
	}
	e5 := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	if got := f.pub.received(); strings.Join(got, ",") != topic+" "+e5 {
		t.Errorf("after the vault's notifications were put, the topic received %v", got)
	}
	if err := f.store.DeleteVaultNotifications(ctx, "Default"); err != nil {
		t.Fatal(err)
	}
	e6 := f.event(t, backup.EventBackupJobFailed)
	f.tick(t)
	if got := f.pub.received(); len(got) != 1 || len(f.deliveries(t, e6)) != 0 {
		t.Errorf("after the vault's notifications were deleted: topic received %v, deliveries %v", got, f.deliveries(t, e6))
	}
}

// BenchmarkWebhookDrain measures the webhook path's ceiling: b.N events
// already waiting in a catalog on disk, drained by the sender with the
// server's resolvers to one webhook target on a loopback receiver that
// accepts at once (in this process, so the CPU figures include the
// receiver's).
func BenchmarkWebhookDrain(b *testing.B) {
	var got atomic.Int64
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rx.Close()
	ctx := context.Background()
	cat, err := sqlite.Open(ctx, b.TempDir()+"/catalog.db")
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	now := clock()
	if err := cat.CreateVault(ctx, &backup.Vault{Name: "Default", ARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:Default",
		CreationDate: now}); err != nil {
		b.Fatal(err)
	}
	m, err := targets.New(cat, targets.Options{Now: clock, Configured: []*backup.NotificationTarget{{Name: "bench",
		Webhook: &backup.WebhookSettings{URL: rx.URL + "/hook", Secret: "k"}}}})
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if err := cat.AppendEvent(ctx, &backup.Event{Type: backup.EventBackupJobCompleted, Time: now, VaultName: "Default",
			JobType: backup.JobTypeBackup, JobID: "job", State: "COMPLETED", ResourceName: "orders"}); err != nil {
			b.Fatal(err)
		}
	}
	s, err := notify.New(notify.Config{Outbox: cat, Clock: clk.NewFake(now),
		Resolver: notify.Resolvers{&notify.SNSResolver{Store: cat, Client: &publisher{}}, m}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	if err := s.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
	if n := got.Load(); n != int64(b.N) {
		b.Fatalf("delivered %d of %d", n, b.N)
	}
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
