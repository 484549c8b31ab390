package notify_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/notify"
)

// On a catalog shared by several nodes only the leader's sender delivers:
// a sender whose node does not lead sends nothing however often its loop
// runs, and delivers once its node leads.
func TestSenderDeliversOnTheLeaderOnly(t *testing.T) {
	var leader atomic.Bool
	var asked atomic.Int32
	tg := &target{kind: "webhook", name: "hook"}
	f := newFixture(t, func(c *notify.Config) {
		c.Interval = 5 * time.Millisecond
		c.Leader = func() bool { asked.Add(1); return leader.Load() }
	}, tg)
	f.event(t, backup.EventBackupJobFailed)
	f.s.Start()
	t.Cleanup(func() { f.s.Shutdown(t.Context()) })
	for deadline := time.Now().Add(time.Minute); asked.Load() < 5; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the loop never asked whether its node leads") // a hang guard only
		}
	}
	if got := tg.received(); len(got) != 0 {
		t.Fatalf("a sender whose node does not lead delivered %d events", len(got))
	}
	leader.Store(true)
	for deadline := time.Now().Add(time.Minute); len(tg.received()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the leader's sender never delivered") // a hang guard only
		}
	}
}
