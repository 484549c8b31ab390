package catalogtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// The outbox: events recorded with the change that causes them, the
// deliveries the sender plans and records, and the vaults' notification
// configurations.
//
//   - A job's change records its events (backup.BackupJobEvents and its
//     siblings) in the same transaction: a change the catalog refuses
//     records none. Each event gets an ID unique in the catalog.
//   - UnplannedEvents returns events in the order they were recorded;
//     PlanDeliveries and UpdateDeliveries store all or nothing.

// drain returns the unplanned events and plans each with no target, so
// that the next call sees only newer ones.
func drain(t *testing.T, c backup.Catalog) []backup.Event {
	t.Helper()
	evs, err := c.UnplannedEvents(ctx(t), 1000)
	must(t, err, "UnplannedEvents")
	var plans []backup.DeliveryPlan
	for _, ev := range evs {
		plans = append(plans, backup.DeliveryPlan{EventID: ev.ID})
	}
	must(t, c.PlanDeliveries(ctx(t), plans, at(0)), "PlanDeliveries")
	return evs
}

// wantEvents fails t unless evs have exactly the types want, in order, and
// each has an ID, a time and the given job.
func wantEvents(t *testing.T, what string, evs []backup.Event, jobID string, want ...backup.EventType) {
	t.Helper()
	var got []backup.EventType
	for _, ev := range evs {
		got = append(got, ev.Type)
		if ev.ID == "" || ev.Time.IsZero() {
			t.Errorf("%s: event %s has no ID or no time: %+v", what, ev.Type, ev)
		}
		if jobID != "" && ev.JobID != jobID {
			t.Errorf("%s: event %s is of job %q, want %q", what, ev.Type, ev.JobID, jobID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: events %v, want %v", what, got, want)
	}
}

func testOutboxJobEvents(t *testing.T, c backup.Catalog) {
	seen := map[string]bool{}
	check := func(what, jobID string, want ...backup.EventType) []backup.Event {
		t.Helper()
		evs := drain(t, c)
		wantEvents(t, what, evs, jobID, want...)
		for _, ev := range evs {
			if seen[ev.ID] {
				t.Fatalf("%s: event ID %s given twice", what, ev.ID)
			}
			seen[ev.ID] = true
		}
		return evs
	}

	j := newJob("job-1", "orders", at(0))
	j.State, j.CompletionDate, j.StatusMessage = backup.JobCreated, time.Time{}, ""
	must(t, c.CreateBackupJob(ctx(t), j), "CreateBackupJob")
	check("a created job", "job-1")
	j.State = backup.JobRunning
	must(t, c.UpdateBackupJob(ctx(t), j), "UpdateBackupJob to RUNNING")
	evs := check("a job that starts", "job-1", backup.EventBackupJobStarted)
	if ev := evs[0]; ev.VaultName != "vault-a" || ev.ResourceARN != tableARN("orders") || ev.State != "RUNNING" || ev.JobType != backup.JobTypeBackup {
		t.Errorf("started event: %+v", ev)
	}
	j.PercentDone = 50
	must(t, c.UpdateBackupJob(ctx(t), j), "UpdateBackupJob of progress")
	check("progress", "job-1")

	// A change the catalog refuses records nothing.
	other := newJob("job-2", "orders", at(time.Second))
	other.State, other.CompletionDate = backup.JobCreated, time.Time{}
	must(t, c.CreateBackupJob(ctx(t), other), "CreateBackupJob")
	other.State = backup.JobRunning
	wantCode(t, c.UpdateBackupJob(ctx(t), other), backup.ErrConflict, "UpdateBackupJob to a second running job")
	check("a refused change", "")

	j.State, j.StatusMessage, j.CompletionDate = backup.JobFailed, "table not found", at(time.Minute)
	must(t, c.UpdateBackupJob(ctx(t), j), "UpdateBackupJob to FAILED")
	evs = check("a job that fails", "job-1", backup.EventBackupJobCompleted, backup.EventBackupJobFailed)
	for _, ev := range evs {
		if ev.State != "FAILED" || ev.StatusMessage != "table not found" || !ev.Time.Equal(at(time.Minute)) {
			t.Errorf("failed job's event %s: state %s, message %q, time %s", ev.Type, ev.State, ev.StatusMessage, ev.Time)
		}
	}
	must(t, c.UpdateBackupJob(ctx(t), j), "UpdateBackupJob of an ended job")
	check("an ended job written again", "job-1")

	other.State, other.CompletionDate = backup.JobExpired, at(2*time.Minute)
	must(t, c.UpdateBackupJob(ctx(t), other), "UpdateBackupJob to EXPIRED")
	check("an expired job", "job-2", backup.EventBackupJobCompleted, backup.EventBackupJobExpired)
	must(t, c.CreateBackupJob(ctx(t), newJob("job-3", "customers", at(time.Hour))), "CreateBackupJob COMPLETED")
	check("a job created COMPLETED", "job-3", backup.EventBackupJobCompleted, backup.EventBackupJobSuccessful)
	wantCode(t, c.UpdateBackupJob(ctx(t), newJob("missing", "orders", at(0))), backup.ErrNotFound, "UpdateBackupJob of a missing job")

	r := newRestore("restore-1", at(0))
	r.Status, r.CompletionDate = backup.RestorePending, time.Time{}
	must(t, c.CreateRestoreJob(ctx(t), r), "CreateRestoreJob")
	check("a pending restore", "restore-1")
	r.Status = backup.RestoreRunning
	must(t, c.UpdateRestoreJob(ctx(t), r), "UpdateRestoreJob to RUNNING")
	evs = check("a restore that starts", "restore-1", backup.EventRestoreJobStarted)
	if evs[0].VaultName != "vault-a" || evs[0].JobType != backup.JobTypeRestore {
		t.Errorf("restore event: vault %q, job type %q", evs[0].VaultName, evs[0].JobType)
	}
	r.Status, r.CompletionDate = backup.RestoreCompleted, at(time.Hour)
	must(t, c.UpdateRestoreJob(ctx(t), r), "UpdateRestoreJob to COMPLETED")
	check("a restore that completes", "restore-1", backup.EventRestoreJobCompleted, backup.EventRestoreJobSuccessful)

	cp := newCopy("copy-1", "orders", at(0))
	cp.State, cp.CompletionDate = backup.CopyCreated, time.Time{}
	must(t, c.CreateCopyJob(ctx(t), cp), "CreateCopyJob")
	cp.State = backup.CopyRunning
	must(t, c.UpdateCopyJob(ctx(t), cp), "UpdateCopyJob to RUNNING")
	cp.State, cp.CompletionDate = backup.CopyFailed, at(time.Hour)
	must(t, c.UpdateCopyJob(ctx(t), cp), "UpdateCopyJob to FAILED")
	evs = check("a copy that fails", "copy-1", backup.EventCopyJobStarted, backup.EventCopyJobFailed)
	if evs[1].VaultName != "vault-a" || evs[1].DestinationVaultARN != vaultARN("vault-b") {
		t.Errorf("copy event: vault %q, destination %q", evs[1].VaultName, evs[1].DestinationVaultARN)
	}
}

func testOutboxPointAndPlanEvents(t *testing.T, c backup.Catalog) {
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	p := newPoint("rp-1", "vault-a", "orders", at(0))
	p.Status = backup.RecoveryPointCreating
	must(t, c.CreateRecoveryPoint(ctx(t), p), "CreateRecoveryPoint")
	p.Status = backup.RecoveryPointCompleted
	must(t, c.UpdateRecoveryPoint(ctx(t), p), "UpdateRecoveryPoint to COMPLETED")
	wantEvents(t, "a point being made", drain(t, c), "")
	p.Lifecycle = backup.Lifecycle{DeleteAfterDays: 7}
	must(t, c.UpdateRecoveryPoint(ctx(t), p), "UpdateRecoveryPoint of its lifecycle")
	evs := drain(t, c)
	wantEvents(t, "a new lifecycle", evs, "", backup.EventRecoveryPointModified)
	if evs[0].RecoveryPointARN != pointARN("rp-1") || evs[0].VaultName != "vault-a" {
		t.Errorf("modified event: %+v", evs[0])
	}
	must(t, c.UpdateRecoveryPoint(ctx(t), p), "UpdateRecoveryPoint unchanged")
	wantEvents(t, "an unchanged point", drain(t, c), "")

	plan := newPlan("plan-1", "daily", at(0))
	must(t, c.CreateBackupPlan(ctx(t), plan), "CreateBackupPlan")
	evs = drain(t, c)
	wantEvents(t, "a new plan", evs, "", backup.EventBackupPlanCreated, backup.EventBackupPlanCreated)
	if evs[0].VaultName != "vault-a" || evs[1].VaultName != "vault-b" || evs[0].CreatedBy == nil || evs[0].CreatedBy.BackupPlanID != "plan-1" {
		t.Errorf("plan events: %+v", evs)
	}
	v2 := nextVersion(plan, "v2", "daily", at(time.Hour))
	v2.Rules = v2.Rules[:1]
	v2.Rules[0].TargetBackupVaultName = "vault-c"
	must(t, c.UpdateBackupPlan(ctx(t), v2), "UpdateBackupPlan")
	evs = drain(t, c)
	wantEvents(t, "a new version", evs, "", backup.EventBackupPlanModified)
	if evs[0].VaultName != "vault-c" || evs[0].CreatedBy.BackupPlanVersion != "v2" {
		t.Errorf("modified plan's event: %+v", evs[0])
	}
	wantCode(t, c.UpdateBackupPlan(ctx(t), nextVersion(plan, "v2", "daily", at(2*time.Hour))), backup.ErrAlreadyExists, "UpdateBackupPlan to a taken version")
	wantEvents(t, "a refused version", drain(t, c), "")
}

func testOutboxDeliveries(t *testing.T, c backup.Catalog) {
	var ids []string
	for i, vault := range []string{"vault-a", "vault-b", "vault-a"} {
		ev := &backup.Event{Type: backup.EventTest, Time: at(time.Duration(i) * time.Second), VaultName: vault}
		must(t, c.AppendEvent(ctx(t), ev), "AppendEvent")
		if ev.ID == "" {
			t.Fatal("AppendEvent gave the event no ID")
		}
		ids = append(ids, ev.ID)
	}
	wantCode(t, c.AppendEvent(ctx(t), &backup.Event{ID: ids[0], Type: backup.EventTest, Time: at(0)}), backup.ErrAlreadyExists, "AppendEvent of a taken ID")
	evs, err := c.UnplannedEvents(ctx(t), 2)
	must(t, err, "UnplannedEvents")
	if len(evs) != 2 || evs[0].ID != ids[0] || evs[1].ID != ids[1] || evs[0].Type != backup.EventTest {
		t.Fatalf("UnplannedEvents(2): %+v, want %v first", evs, ids[:2])
	}
	targets := []backup.DeliveryTarget{{Kind: "sns", Name: "topic"}, {Kind: "webhook", Name: "ops"}}
	must(t, c.PlanDeliveries(ctx(t), []backup.DeliveryPlan{{EventID: ids[0], Targets: targets}}, at(time.Minute)), "PlanDeliveries")
	wantCode(t, c.PlanDeliveries(ctx(t), []backup.DeliveryPlan{{EventID: ids[1], Targets: targets}, {EventID: "missing"}}, at(0)),
		backup.ErrNotFound, "PlanDeliveries with a missing event")
	must(t, c.PlanDeliveries(ctx(t), []backup.DeliveryPlan{
		{EventID: ids[0], Targets: targets[:1]}, // planned already: kept as it was
		{EventID: ids[1], Targets: targets[:1]},
		{EventID: ids[2]}, // no target
	}, at(time.Minute)), "PlanDeliveries")
	if evs, err := c.UnplannedEvents(ctx(t), 10); err != nil || len(evs) != 0 {
		t.Fatalf("UnplannedEvents after planning: %v, %v", evs, err)
	}

	due, err := c.DueDeliveries(ctx(t), at(time.Minute-1), 10)
	must(t, err, "DueDeliveries")
	if len(due) != 0 {
		t.Fatalf("DueDeliveries before they are due: %d", len(due))
	}
	due, err = c.DueDeliveries(ctx(t), at(time.Minute), 10)
	must(t, err, "DueDeliveries")
	if len(due) != 3 {
		t.Fatalf("DueDeliveries: %d, want 3", len(due))
	}
	for _, d := range due {
		if d.Status != backup.DeliveryPending || d.Event.ID != d.EventID || !d.CreatedAt.Equal(at(time.Minute)) || !d.NextAttemptAt.Equal(at(time.Minute)) {
			t.Errorf("due delivery: %+v", d)
		}
	}

	// A failed attempt waits; a delivered one and an undeliverable one are done.
	d := *due[0]
	d.Attempts, d.LastError, d.LastAttemptAt, d.NextAttemptAt = 1, "connection refused", at(time.Minute), at(time.Hour)
	must(t, c.UpdateDeliveries(ctx(t), []*backup.Delivery{&d}), "UpdateDeliveries")
	d2 := *due[1]
	d2.Status, d2.Attempts, d2.LastAttemptAt, d2.DeliveredAt, d2.NextAttemptAt = backup.DeliveryDelivered, 1, at(time.Minute), at(time.Minute), time.Time{}
	d3 := *due[2]
	d3.Status, d3.Attempts, d3.LastError, d3.NextAttemptAt = backup.DeliveryUndeliverable, 3, "403 Forbidden", time.Time{}
	bad := d3
	bad.Status = "LOST"
	wantCode(t, c.UpdateDeliveries(ctx(t), []*backup.Delivery{&d2, &bad}), backup.ErrInvalidParameter, "UpdateDeliveries to an unknown status")
	bad = d3
	bad.TargetName = "nobody"
	wantCode(t, c.UpdateDeliveries(ctx(t), []*backup.Delivery{&d2, &bad}), backup.ErrNotFound, "UpdateDeliveries of a missing delivery")
	if got, _, err := c.ListDeliveries(ctx(t), backup.DeliveryFilter{Status: backup.DeliveryDelivered}); err != nil || len(got) != 0 {
		t.Fatalf("a refused UpdateDeliveries stored some: %+v, %v", got, err)
	}
	must(t, c.UpdateDeliveries(ctx(t), []*backup.Delivery{&d2, &d3}), "UpdateDeliveries")

	due, err = c.DueDeliveries(ctx(t), at(30*time.Minute), 10)
	must(t, err, "DueDeliveries")
	if len(due) != 0 {
		t.Fatalf("DueDeliveries after the attempts: %d, want 0", len(due))
	}
	due, err = c.DueDeliveries(ctx(t), at(time.Hour), 10)
	must(t, err, "DueDeliveries")
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "connection refused" || !due[0].LastAttemptAt.Equal(at(time.Minute)) {
		t.Fatalf("DueDeliveries an hour on: %+v", due)
	}

	all, next, err := c.ListDeliveries(ctx(t), backup.DeliveryFilter{})
	must(t, err, "ListDeliveries")
	if len(all) != 3 || next != "" {
		t.Fatalf("ListDeliveries: %d, next %q", len(all), next)
	}
	counts, err := c.DeliveryCounts(ctx(t))
	must(t, err, "DeliveryCounts")
	if counts[backup.DeliveryPending] != 1 || counts[backup.DeliveryDelivered] != 1 || counts[backup.DeliveryUndeliverable] != 1 {
		t.Errorf("DeliveryCounts: %v", counts)
	}
	got, _, err := c.ListDeliveries(ctx(t), backup.DeliveryFilter{VaultName: "vault-b"})
	must(t, err, "ListDeliveries by vault")
	if len(got) != 1 || got[0].EventID != ids[1] {
		t.Errorf("ListDeliveries of vault-b: %+v", got)
	}
	got, _, err = c.ListDeliveries(ctx(t), backup.DeliveryFilter{Status: backup.DeliveryUndeliverable})
	must(t, err, "ListDeliveries by status")
	if len(got) != 1 || got[0].LastError != "403 Forbidden" || got[0].Attempts != 3 {
		t.Errorf("undeliverable deliveries: %+v", got)
	}
	got, _, err = c.ListDeliveries(ctx(t), backup.DeliveryFilter{EventID: ids[0]})
	must(t, err, "ListDeliveries by event")
	if len(got) != 2 {
		t.Errorf("deliveries of %s: %d, want 2", ids[0], len(got))
	}
	var paged []*backup.Delivery
	p := backup.DeliveryFilter{Page: backup.Page{MaxResults: 2}}
	for {
		page, next, err := c.ListDeliveries(ctx(t), p)
		must(t, err, "ListDeliveries page")
		paged = append(paged, page...)
		if next == "" {
			break
		}
		p.NextToken = next
	}
	if len(paged) != 3 {
		t.Errorf("paged deliveries: %d, want 3", len(paged))
	}
	_, _, err = c.ListDeliveries(ctx(t), backup.DeliveryFilter{Page: backup.Page{NextToken: "bogus"}})
	wantCode(t, err, backup.ErrInvalidParameter, "ListDeliveries with a foreign token")

	// Pruning: the event with a pending delivery (d's) stays whatever its
	// age, and so does one not planned yet; the others go, with their
	// records, oldest first.
	var done []string
	for _, id := range ids {
		if id != d.EventID {
			done = append(done, id)
		}
	}
	late := &backup.Event{Type: backup.EventTest, Time: at(time.Second), VaultName: "vault-a"}
	must(t, c.AppendEvent(ctx(t), late), "AppendEvent")
	n, err := c.PruneEvents(ctx(t), at(3*time.Second), 1)
	must(t, err, "PruneEvents")
	if n != 1 {
		t.Fatalf("PruneEvents(limit 1): %d", n)
	}
	got, _, err = c.ListDeliveries(ctx(t), backup.DeliveryFilter{EventID: done[0]})
	must(t, err, "ListDeliveries")
	if len(got) != 0 {
		t.Errorf("the deliveries of a pruned event remain: %+v", got)
	}
	n, err = c.PruneEvents(ctx(t), at(2*time.Hour), 10)
	must(t, err, "PruneEvents")
	if n != len(done)-1 {
		t.Fatalf("PruneEvents of the rest: %d, want %d", n, len(done)-1)
	}
	all, _, err = c.ListDeliveries(ctx(t), backup.DeliveryFilter{})
	must(t, err, "ListDeliveries")
	for _, x := range all {
		if x.EventID != d.EventID {
			t.Errorf("a delivery of a pruned event remains: %+v", x)
		}
	}
	if len(all) == 0 {
		t.Error("the pending delivery's event was pruned")
	}
	if evs, err := c.UnplannedEvents(ctx(t), 10); err != nil || len(evs) != 1 || evs[0].ID != late.ID {
		t.Errorf("unplanned events after pruning: %+v, %v", evs, err)
	}
}

// testOutboxLargeBatches plans and records more deliveries in one call
// than a catalog may put in one statement, with an event named twice in
// one call (its first plan is kept), all or nothing.
func testOutboxLargeBatches(t *testing.T, c backup.Catalog) {
	const n = 1200
	ids := make([]string, n)
	for i := range ids {
		ev := &backup.Event{Type: backup.EventBackupJobCompleted, Time: at(time.Duration(i) * time.Millisecond), VaultName: "vault-a"}
		must(t, c.AppendEvent(ctx(t), ev), "AppendEvent")
		ids[i] = ev.ID
	}
	evs, err := c.UnplannedEvents(ctx(t), n)
	must(t, err, "UnplannedEvents")
	if len(evs) != n || evs[0].ID != ids[0] || evs[n-1].ID != ids[n-1] {
		t.Fatalf("UnplannedEvents(%d): %d events", n, len(evs))
	}
	two := []backup.DeliveryTarget{{Kind: "sns", Name: "topic"}, {Kind: "webhook", Name: "ops"}}
	plans := []backup.DeliveryPlan{{EventID: ids[0], Targets: two[:1]}}
	for _, id := range ids {
		plans = append(plans, backup.DeliveryPlan{EventID: id, Targets: two})
	}
	// A missing event at the end: nothing of the batch is stored.
	wantCode(t, c.PlanDeliveries(ctx(t), append(plans, backup.DeliveryPlan{EventID: "missing"}), at(time.Minute)),
		backup.ErrNotFound, "PlanDeliveries of a large batch with a missing event")
	if evs, err := c.UnplannedEvents(ctx(t), n); err != nil || len(evs) != n {
		t.Fatalf("a refused PlanDeliveries planned some: %d unplanned left, %v", len(evs), err)
	}
	must(t, c.PlanDeliveries(ctx(t), plans, at(time.Minute)), "PlanDeliveries of a large batch")
	if evs, err := c.UnplannedEvents(ctx(t), 10); err != nil || len(evs) != 0 {
		t.Fatalf("UnplannedEvents after planning: %d, %v", len(evs), err)
	}
	due, err := c.DueDeliveries(ctx(t), at(time.Minute), 3*n)
	must(t, err, "DueDeliveries")
	if len(due) != 2*n-1 {
		t.Fatalf("DueDeliveries: %d, want %d (the first event keeps its first plan, one target)", len(due), 2*n-1)
	}
	first, _, err := c.ListDeliveries(ctx(t), backup.DeliveryFilter{EventID: ids[0]})
	must(t, err, "ListDeliveries")
	if len(first) != 1 || first[0].TargetKind != "sns" {
		t.Errorf("the deliveries of the event planned twice in one call: %+v", first)
	}
	for _, d := range due {
		d.Status, d.Attempts, d.LastAttemptAt, d.DeliveredAt, d.NextAttemptAt = backup.DeliveryDelivered, 1, at(time.Minute), at(time.Minute), time.Time{}
	}
	last := *due[len(due)-1]
	last.TargetName = "nobody"
	wantCode(t, c.UpdateDeliveries(ctx(t), append(due[:len(due):len(due)], &last)), backup.ErrNotFound, "UpdateDeliveries of a large batch with a missing delivery")
	counts, err := c.DeliveryCounts(ctx(t))
	must(t, err, "DeliveryCounts")
	if counts[backup.DeliveryPending] != int64(2*n-1) || counts[backup.DeliveryDelivered] != 0 {
		t.Fatalf("a refused UpdateDeliveries stored some: %v", counts)
	}
	// A delivery named twice takes its last outcome.
	early := *due[0]
	early.Status, early.LastError, early.DeliveredAt = backup.DeliveryUndeliverable, "403 Forbidden", time.Time{}
	must(t, c.UpdateDeliveries(ctx(t), append([]*backup.Delivery{&early}, due...)), "UpdateDeliveries of a large batch")
	counts, err = c.DeliveryCounts(ctx(t))
	must(t, err, "DeliveryCounts")
	if counts[backup.DeliveryPending] != 0 || counts[backup.DeliveryDelivered] != int64(2*n-1) {
		t.Errorf("DeliveryCounts after a large UpdateDeliveries: %v", counts)
	}
}

func testVaultNotifications(t *testing.T, c backup.Catalog) {
	n := &backup.VaultNotifications{VaultName: "vault-a", SNSTopicARN: "arn:aws:sns:eu-west-1:123456789012:backups",
		Events: []backup.EventType{backup.EventBackupJobCompleted, backup.EventBackupJobFailed}}
	wantCode(t, c.PutVaultNotifications(ctx(t), n), backup.ErrNotFound, "PutVaultNotifications of a missing vault")
	_, err := c.GetVaultNotifications(ctx(t), "vault-a")
	wantCode(t, err, backup.ErrNotFound, "GetVaultNotifications of a missing vault")
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault")
	_, err = c.GetVaultNotifications(ctx(t), "vault-a")
	wantCode(t, err, backup.ErrNotFound, "GetVaultNotifications of a vault without")
	must(t, c.PutVaultNotifications(ctx(t), n), "PutVaultNotifications")
	got, err := c.GetVaultNotifications(ctx(t), "vault-a")
	must(t, err, "GetVaultNotifications")
	if got.VaultARN != vaultARN("vault-a") || got.SNSTopicARN != n.SNSTopicARN || fmt.Sprint(got.Events) != fmt.Sprint(n.Events) {
		t.Errorf("GetVaultNotifications: %+v", got)
	}
	n2 := &backup.VaultNotifications{VaultName: "vault-a", SNSTopicARN: "arn:aws:sns:eu-west-1:123456789012:other",
		Events: []backup.EventType{backup.EventRestoreJobCompleted}}
	must(t, c.PutVaultNotifications(ctx(t), n2), "PutVaultNotifications replacing")
	got, err = c.GetVaultNotifications(ctx(t), "vault-a")
	must(t, err, "GetVaultNotifications")
	if got.SNSTopicARN != n2.SNSTopicARN || fmt.Sprint(got.Events) != fmt.Sprint(n2.Events) {
		t.Errorf("GetVaultNotifications after replacing: %+v", got)
	}
	must(t, c.DeleteVaultNotifications(ctx(t), "vault-a"), "DeleteVaultNotifications")
	wantCode(t, c.DeleteVaultNotifications(ctx(t), "vault-a"), backup.ErrNotFound, "DeleteVaultNotifications again")
	must(t, c.PutVaultNotifications(ctx(t), n), "PutVaultNotifications")
	must(t, c.DeleteVault(ctx(t), "vault-a"), "DeleteVault")
	must(t, c.CreateVault(ctx(t), newVault("vault-a")), "CreateVault again")
	_, err = c.GetVaultNotifications(ctx(t), "vault-a")
	wantCode(t, err, backup.ErrNotFound, "GetVaultNotifications of a vault deleted and made again")
}
