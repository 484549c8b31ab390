package catalogtest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

func planVersionID(p *backup.BackupPlan) string { return p.VersionID }

func planID(p *backup.BackupPlan) string { return p.ID }

func selectionID(s *backup.BackupSelection) string { return s.SelectionID }

// getPlan returns the plan's version (latest if version is empty).
func getPlan(t *testing.T, c backup.Catalog, id, version string) *backup.BackupPlan {
	t.Helper()
	p, err := c.GetBackupPlan(ctx(t), id, version)
	must(t, err, fmt.Sprintf("GetBackupPlan %s %s", id, version))
	return p
}

// nextVersion returns version of plan prev with the given name, made at
// created: its own document, the plan-level fields of prev.
func nextVersion(prev *backup.BackupPlan, version, name string, created time.Time) *backup.BackupPlan {
	v := newPlan(prev.ID, name, created)
	v.VersionID = version
	v.Rules = v.Rules[:1]
	v.Rules[0].RuleName = "daily-" + version
	v.Rules[0].Lifecycle.DeleteAfterDays++
	v.AdvancedBackupSettings = nil
	v.ARN, v.AccountID, v.Region = prev.ARN, prev.AccountID, prev.Region
	v.CreatorRequestID, v.LastExecutionDate, v.DeletionDate = prev.CreatorRequestID, prev.LastExecutionDate, prev.DeletionDate
	v.Tags = prev.Tags
	return v
}

func testPlanCreateGet(t *testing.T, c backup.Catalog) {
	if _, err := c.GetBackupPlan(ctx(t), "missing", ""); !backup.IsNotFound(err) {
		t.Fatalf("GetBackupPlan of a missing plan: got %v, want NotFound", err)
	}
	if _, err := c.GetBackupPlan(ctx(t), "missing", "v1"); !backup.IsNotFound(err) {
		t.Fatalf("GetBackupPlan of a missing plan's version: got %v, want NotFound", err)
	}
	p, want := newPlan("plan-1", "orders-daily", at(0)), newPlan("plan-1", "orders-daily", at(0))
	must(t, c.CreateBackupPlan(ctx(t), p), "CreateBackupPlan")
	p.Rules[0].RuleName = "changed after create"
	p.Rules[0].RecoveryPointTags["backup"] = "changed after create"
	p.Tags["team"] = "changed after create"

	wantEqual(t, "GetBackupPlan", getPlan(t, c, "plan-1", ""), want)
	got := getPlan(t, c, "plan-1", "v1-plan-1")
	wantEqual(t, "GetBackupPlan of version v1", got, want)
	got.Rules[0].CopyActions[0].DestinationBackupVaultARN = "changed after get"
	got.Tags["team"] = "changed after get"
	wantEqual(t, "GetBackupPlan after changing a returned value", getPlan(t, c, "plan-1", ""), want)
	if _, err := c.GetBackupPlan(ctx(t), "plan-1", "v-unknown"); !backup.IsNotFound(err) {
		t.Fatalf("GetBackupPlan of an unknown version: got %v, want NotFound", err)
	}

	wantCode(t, c.CreateBackupPlan(ctx(t), newPlan("plan-1", "another-name", at(time.Hour))), backup.ErrAlreadyExists,
		"CreateBackupPlan of an existing ID")
	wantCode(t, c.CreateBackupPlan(ctx(t), newPlan("plan-2", "orders-daily", at(time.Hour))), backup.ErrAlreadyExists,
		"CreateBackupPlan of an existing name")
	for _, bad := range []func(p *backup.BackupPlan){
		func(p *backup.BackupPlan) { p.ID = "" },
		func(p *backup.BackupPlan) { p.VersionID = "" },
		func(p *backup.BackupPlan) { p.BackupPlanName = "" },
		func(p *backup.BackupPlan) { p.CreationDate = time.Time{} },
	} {
		p := newPlan("plan-3", "bad", at(time.Hour))
		bad(p)
		wantCode(t, c.CreateBackupPlan(ctx(t), p), backup.ErrMissingParameter, "CreateBackupPlan of an incomplete plan")
	}
	for _, id := range []string{"plan-2", "plan-3"} {
		if _, err := c.GetBackupPlan(ctx(t), id, ""); !backup.IsNotFound(err) {
			t.Fatalf("a refused CreateBackupPlan stored plan %s: %v", id, err)
		}
	}
	// A plan with only what is required.
	bare := &backup.BackupPlan{ID: "plan-bare", VersionID: "v1", CreationDate: at(2),
		PlanDocument: backup.PlanDocument{BackupPlanName: "bare"}}
	must(t, c.CreateBackupPlan(ctx(t), bare), "CreateBackupPlan of a bare plan")
	wantEqual(t, "GetBackupPlan of a bare plan", getPlan(t, c, "plan-bare", ""), bare)

	plans, next, err := c.ListBackupPlans(ctx(t), backup.BackupPlanFilter{})
	must(t, err, "ListBackupPlans")
	if g := ids(plans, planID); !slices.Equal(g, []string{"plan-bare", "plan-1"}) || next != "" {
		t.Fatalf("ListBackupPlans: %v, next %q; want [plan-bare plan-1]", g, next)
	}
}

func testPlanVersions(t *testing.T, c backup.Catalog) {
	v1 := newPlan("plan-1", "orders", at(0))
	must(t, c.CreateBackupPlan(ctx(t), v1), "CreateBackupPlan")
	v2 := nextVersion(v1, "v2", "orders-renamed", at(time.Hour))
	// What all versions share is the plan's, not the update's.
	upd := *v2
	upd.ARN, upd.Tags, upd.CreatorRequestID, upd.LastExecutionDate = "other-arn", map[string]string{"x": "y"}, "other-request", at(9*time.Hour)
	must(t, c.UpdateBackupPlan(ctx(t), &upd), "UpdateBackupPlan to v2")
	wantEqual(t, "GetBackupPlan after the update", getPlan(t, c, "plan-1", ""), v2)
	wantEqual(t, "GetBackupPlan of v1 after the update", getPlan(t, c, "plan-1", v1.VersionID), v1)
	wantEqual(t, "GetBackupPlan of v2", getPlan(t, c, "plan-1", "v2"), v2)

	// v3 and v4 are made at the same time: the version ID breaks the tie.
	v3 := nextVersion(v1, "v3", "orders", at(2*time.Hour))
	v4 := nextVersion(v1, "v4", "orders", at(2*time.Hour))
	must(t, c.UpdateBackupPlan(ctx(t), v3), "UpdateBackupPlan to v3")
	must(t, c.UpdateBackupPlan(ctx(t), v4), "UpdateBackupPlan to v4")
	wantEqual(t, "GetBackupPlan after two updates", getPlan(t, c, "plan-1", ""), v4)
	all := []*backup.BackupPlan{v4, v3, v2, v1}
	checkListing(t, "ListBackupPlanVersions", all, planVersionID, func(p backup.Page) ([]*backup.BackupPlan, string, error) {
		return c.ListBackupPlanVersions(ctx(t), "plan-1", p)
	})
	checkListing(t, "ListBackupPlans", []*backup.BackupPlan{v4}, planID, func(p backup.Page) ([]*backup.BackupPlan, string, error) {
		return c.ListBackupPlans(ctx(t), backup.BackupPlanFilter{Page: p})
	})

	// Refused updates change nothing: no version is added.
	wantCode(t, c.UpdateBackupPlan(ctx(t), nextVersion(newPlan("missing", "m", at(0)), "v2", "m", at(3*time.Hour))),
		backup.ErrNotFound, "UpdateBackupPlan of a missing plan")
	wantCode(t, c.UpdateBackupPlan(ctx(t), nextVersion(v1, "v2", "orders", at(3*time.Hour))),
		backup.ErrAlreadyExists, "UpdateBackupPlan with an existing version ID")
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-2", "customers", at(time.Minute))), "CreateBackupPlan")
	wantCode(t, c.UpdateBackupPlan(ctx(t), nextVersion(v1, "v5", "customers", at(3*time.Hour))),
		backup.ErrAlreadyExists, "UpdateBackupPlan to another live plan's name")
	bad := nextVersion(v1, "v6", "orders", at(3*time.Hour))
	bad.VersionID = ""
	wantCode(t, c.UpdateBackupPlan(ctx(t), bad), backup.ErrMissingParameter, "UpdateBackupPlan without a VersionID")
	wantEqual(t, "GetBackupPlan after refused updates", getPlan(t, c, "plan-1", ""), v4)
	checkListing(t, "ListBackupPlanVersions after refused updates", all, planVersionID, func(p backup.Page) ([]*backup.BackupPlan, string, error) {
		return c.ListBackupPlanVersions(ctx(t), "plan-1", p)
	})
	if _, _, err := c.ListBackupPlanVersions(ctx(t), "missing", backup.Page{}); !backup.IsNotFound(err) {
		t.Fatalf("ListBackupPlanVersions of a missing plan: got %v, want NotFound", err)
	}
	// The name the plan gave up is free again.
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-3", "orders-renamed", at(2*time.Minute))), "CreateBackupPlan of a name given up")
}

func testPlanList(t *testing.T, c backup.Catalog) {
	const n = 14
	created := func(i int) time.Time {
		if i%4 == 3 { // ties are broken by ID
			i--
		}
		return at(time.Duration(i)*time.Hour + time.Duration(i))
	}
	latest := map[string]*backup.BackupPlan{}
	planCreated := map[string]time.Time{}
	var live, every []*backup.BackupPlan
	for _, i := range shuffled(n) {
		id := fmt.Sprintf("plan-%02d", i)
		p := newPlan(id, fmt.Sprintf("name-%02d", i), created(i))
		must(t, c.CreateBackupPlan(ctx(t), p), "CreateBackupPlan "+id)
		latest[id], planCreated[id] = p, p.CreationDate
	}
	for i := range n {
		id := fmt.Sprintf("plan-%02d", i)
		switch {
		case i%3 == 1: // updated later: keeps its place
			v := nextVersion(latest[id], "v2", latest[id].BackupPlanName, at(100*time.Hour+time.Duration(i)))
			must(t, c.UpdateBackupPlan(ctx(t), v), "UpdateBackupPlan "+id)
			latest[id] = v
		case i%3 == 2:
			p, err := c.DeleteBackupPlan(ctx(t), id, at(200*time.Hour))
			must(t, err, "DeleteBackupPlan "+id)
			latest[id] = p
		}
		every = append(every, latest[id])
		if latest[id].DeletionDate.IsZero() {
			live = append(live, latest[id])
		}
	}
	byPlanCreation := func(p *backup.BackupPlan) (time.Time, string) { return planCreated[p.ID], p.ID }
	newestFirst(live, byPlanCreation)
	newestFirst(every, byPlanCreation)
	checkListing(t, "ListBackupPlans", live, planID, func(p backup.Page) ([]*backup.BackupPlan, string, error) {
		return c.ListBackupPlans(ctx(t), backup.BackupPlanFilter{Page: p})
	})
	checkListing(t, "ListBackupPlans with IncludeDeleted", every, planID, func(p backup.Page) ([]*backup.BackupPlan, string, error) {
		return c.ListBackupPlans(ctx(t), backup.BackupPlanFilter{Page: p, IncludeDeleted: true})
	})
}

func testPlanDelete(t *testing.T, c backup.Catalog) {
	_, err := c.DeleteBackupPlan(ctx(t), "missing", at(time.Hour))
	wantCode(t, err, backup.ErrNotFound, "DeleteBackupPlan of a missing plan")
	v1 := newPlan("plan-1", "orders", at(0))
	must(t, c.CreateBackupPlan(ctx(t), v1), "CreateBackupPlan")
	v2 := nextVersion(v1, "v2", "orders", at(time.Hour))
	must(t, c.UpdateBackupPlan(ctx(t), v2), "UpdateBackupPlan")
	must(t, c.CreateBackupSelection(ctx(t), newSelection("plan-1", "sel-1", "tables", at(time.Hour))), "CreateBackupSelection")
	must(t, c.CreateBackupSelection(ctx(t), newSelection("plan-1", "sel-2", "more-tables", at(time.Hour))), "CreateBackupSelection")

	_, err = c.DeleteBackupPlan(ctx(t), "plan-1", at(2*time.Hour))
	wantCode(t, err, backup.ErrInvalidRequest, "DeleteBackupPlan of a plan with selections")
	wantEqual(t, "GetBackupPlan after a refused delete", getPlan(t, c, "plan-1", ""), v2)
	must(t, c.DeleteBackupSelection(ctx(t), "plan-1", "sel-1"), "DeleteBackupSelection")
	_, err = c.DeleteBackupPlan(ctx(t), "plan-1", at(2*time.Hour))
	wantCode(t, err, backup.ErrInvalidRequest, "DeleteBackupPlan of a plan with one selection left")
	must(t, c.DeleteBackupSelection(ctx(t), "plan-1", "sel-2"), "DeleteBackupSelection")
	_, err = c.DeleteBackupPlan(ctx(t), "plan-1", time.Time{})
	wantCode(t, err, backup.ErrMissingParameter, "DeleteBackupPlan without a time")

	deleted, err := c.DeleteBackupPlan(ctx(t), "plan-1", at(3*time.Hour+1))
	must(t, err, "DeleteBackupPlan")
	want := *v2
	want.DeletionDate = at(3*time.Hour + 1)
	wantEqual(t, "DeleteBackupPlan's result", deleted, &want)
	wantEqual(t, "GetBackupPlan of a deleted plan", getPlan(t, c, "plan-1", ""), &want)
	wantV1 := *v1
	wantV1.DeletionDate = want.DeletionDate
	wantEqual(t, "GetBackupPlan of a deleted plan's first version", getPlan(t, c, "plan-1", v1.VersionID), &wantV1)
	checkListing(t, "ListBackupPlanVersions of a deleted plan", []*backup.BackupPlan{&want, &wantV1}, planVersionID,
		func(p backup.Page) ([]*backup.BackupPlan, string, error) {
			return c.ListBackupPlanVersions(ctx(t), "plan-1", p)
		})

	_, err = c.DeleteBackupPlan(ctx(t), "plan-1", at(4*time.Hour))
	wantCode(t, err, backup.ErrNotFound, "DeleteBackupPlan of a deleted plan")
	wantCode(t, c.UpdateBackupPlan(ctx(t), nextVersion(v1, "v3", "orders", at(4*time.Hour))), backup.ErrNotFound, "UpdateBackupPlan of a deleted plan")
	wantCode(t, c.CreateBackupSelection(ctx(t), newSelection("plan-1", "sel-3", "tables", at(4*time.Hour))), backup.ErrNotFound,
		"CreateBackupSelection in a deleted plan")
	sels, next, err := c.ListBackupSelections(ctx(t), "plan-1", backup.Page{})
	must(t, err, "ListBackupSelections of a deleted plan")
	if len(sels) != 0 || next != "" {
		t.Fatalf("ListBackupSelections of a deleted plan: %d selections, next %q", len(sels), next)
	}
	wantEqual(t, "GetBackupPlan after refused changes", getPlan(t, c, "plan-1", ""), &want)

	plans, _, err := c.ListBackupPlans(ctx(t), backup.BackupPlanFilter{})
	must(t, err, "ListBackupPlans")
	if len(plans) != 0 {
		t.Fatalf("ListBackupPlans lists %d plans, want none: the only plan is deleted", len(plans))
	}
	// The name is free for a new plan, and taken by it.
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-2", "orders", at(5*time.Hour))), "CreateBackupPlan with a deleted plan's name")
	wantCode(t, c.CreateBackupPlan(ctx(t), newPlan("plan-3", "orders", at(5*time.Hour))), backup.ErrAlreadyExists,
		"CreateBackupPlan with the name of the new plan")
}

func testPlanDeleteRacesSelection(t *testing.T, c backup.Catalog) {
	for round := range 12 {
		id := fmt.Sprintf("plan-%02d", round)
		must(t, c.CreateBackupPlan(ctx(t), newPlan(id, id, at(time.Duration(round)))), "CreateBackupPlan")
		var selErr, delErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			<-start
			selErr = c.CreateBackupSelection(ctx(t), newSelection(id, "sel-"+id, "tables", at(time.Hour)))
		})
		wg.Go(func() {
			<-start
			_, delErr = c.DeleteBackupPlan(ctx(t), id, at(time.Hour))
		})
		close(start)
		wg.Wait()
		switch {
		case selErr == nil && backup.ErrorCode(delErr) == backup.ErrInvalidRequest:
		case delErr == nil && backup.IsNotFound(selErr):
		default:
			t.Fatalf("round %d: CreateBackupSelection: %v; DeleteBackupPlan: %v; want exactly one to succeed", round, selErr, delErr)
		}
		p := getPlan(t, c, id, "")
		sels, _, err := c.ListBackupSelections(ctx(t), id, backup.Page{})
		must(t, err, "ListBackupSelections")
		if deleted := !p.DeletionDate.IsZero(); deleted == (len(sels) > 0) {
			t.Fatalf("round %d: plan deleted %v with %d selections", round, deleted, len(sels))
		}
	}
}

func testPlanLastExecution(t *testing.T, c backup.Catalog) {
	wantCode(t, c.SetPlanLastExecution(ctx(t), "missing", at(0)), backup.ErrNotFound, "SetPlanLastExecution of a missing plan")
	p := newPlan("plan-1", "orders", at(0))
	p.LastExecutionDate = time.Time{}
	must(t, c.CreateBackupPlan(ctx(t), p), "CreateBackupPlan")
	check := func(what string, want time.Time) {
		t.Helper()
		if got := getPlan(t, c, "plan-1", "").LastExecutionDate; !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("%s: LastExecutionDate %v, want %v in UTC", what, got, want)
		}
		plans, _, err := c.ListBackupPlans(ctx(t), backup.BackupPlanFilter{})
		must(t, err, "ListBackupPlans")
		if len(plans) != 1 || !plans[0].LastExecutionDate.Equal(want) {
			t.Fatalf("%s: ListBackupPlans does not show LastExecutionDate %v", what, want)
		}
	}
	check("at first", time.Time{})
	must(t, c.SetPlanLastExecution(ctx(t), "plan-1", at(2*time.Hour).In(time.FixedZone("X", 3600))), "SetPlanLastExecution")
	check("after a set", at(2*time.Hour))
	must(t, c.SetPlanLastExecution(ctx(t), "plan-1", at(time.Hour)), "SetPlanLastExecution to an earlier time")
	check("after an earlier time", at(2*time.Hour))
	must(t, c.SetPlanLastExecution(ctx(t), "plan-1", at(2*time.Hour+1)), "SetPlanLastExecution to a later time")
	check("after a later time", at(2*time.Hour+1))
	wantCode(t, c.SetPlanLastExecution(ctx(t), "plan-1", time.Time{}), backup.ErrMissingParameter, "SetPlanLastExecution of the zero time")
	must(t, c.UpdateBackupPlan(ctx(t), nextVersion(p, "v2", "orders", at(3*time.Hour))), "UpdateBackupPlan")
	check("after an update", at(2*time.Hour+1))
	for _, v := range collect(t, 0, func(pg backup.Page) ([]*backup.BackupPlan, string, error) {
		return c.ListBackupPlanVersions(ctx(t), "plan-1", pg)
	}) {
		if !v.LastExecutionDate.Equal(at(2*time.Hour + 1)) {
			t.Fatalf("version %s: LastExecutionDate %v, want the plan's", v.VersionID, v.LastExecutionDate)
		}
	}
}

func testSelections(t *testing.T, c backup.Catalog) {
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-1", "orders", at(0))), "CreateBackupPlan")
	must(t, c.CreateBackupPlan(ctx(t), newPlan("plan-2", "customers", at(0))), "CreateBackupPlan")
	wantCode(t, c.CreateBackupSelection(ctx(t), newSelection("missing", "sel-0", "tables", at(0))), backup.ErrNotFound,
		"CreateBackupSelection in a missing plan")
	if _, err := c.GetBackupSelection(ctx(t), "plan-1", "missing"); !backup.IsNotFound(err) {
		t.Fatalf("GetBackupSelection of a missing selection: got %v, want NotFound", err)
	}

	s, want := newSelection("plan-1", "sel-1", "tables", at(time.Hour)), newSelection("plan-1", "sel-1", "tables", at(time.Hour))
	must(t, c.CreateBackupSelection(ctx(t), s), "CreateBackupSelection")
	s.Resources[0] = "changed after create"
	s.Conditions.StringLike[0].ConditionValue = "changed after create"
	got, err := c.GetBackupSelection(ctx(t), "plan-1", "sel-1")
	must(t, err, "GetBackupSelection")
	wantEqual(t, "GetBackupSelection", got, want)
	got.ListOfTags[0].ConditionValue = "changed after get"
	got, err = c.GetBackupSelection(ctx(t), "plan-1", "sel-1")
	must(t, err, "GetBackupSelection")
	wantEqual(t, "GetBackupSelection after changing a returned value", got, want)
	if _, err := c.GetBackupSelection(ctx(t), "plan-2", "sel-1"); !backup.IsNotFound(err) {
		t.Fatalf("GetBackupSelection through another plan: got %v, want NotFound", err)
	}

	wantCode(t, c.CreateBackupSelection(ctx(t), newSelection("plan-2", "sel-1", "other", at(time.Hour))), backup.ErrAlreadyExists,
		"CreateBackupSelection of an existing ID")
	wantCode(t, c.CreateBackupSelection(ctx(t), newSelection("plan-1", "sel-2", "tables", at(time.Hour))), backup.ErrAlreadyExists,
		"CreateBackupSelection of a name the plan has")
	must(t, c.CreateBackupSelection(ctx(t), newSelection("plan-2", "sel-2", "tables", at(time.Hour))),
		"CreateBackupSelection of a name another plan has")
	noName := newSelection("plan-1", "sel-3", "", at(time.Hour))
	wantCode(t, c.CreateBackupSelection(ctx(t), noName), backup.ErrMissingParameter, "CreateBackupSelection without a name")
	bare := &backup.BackupSelection{SelectionID: "sel-bare", BackupPlanID: "plan-2", CreationDate: at(3),
		SelectionDocument: backup.SelectionDocument{SelectionName: "bare"}}
	must(t, c.CreateBackupSelection(ctx(t), bare), "CreateBackupSelection of a bare selection")
	got, err = c.GetBackupSelection(ctx(t), "plan-2", "sel-bare")
	must(t, err, "GetBackupSelection")
	wantEqual(t, "GetBackupSelection of a bare selection", got, bare)

	// A listing, newest first, with ties broken by ID.
	all := []*backup.BackupSelection{want}
	const n = 11
	for _, i := range shuffled(n) {
		d := time.Duration(i) * time.Minute
		if i%3 == 2 {
			d -= time.Minute
		}
		s := newSelection("plan-1", fmt.Sprintf("sel-x%02d", i), fmt.Sprintf("name-%02d", i), at(d))
		must(t, c.CreateBackupSelection(ctx(t), s), "CreateBackupSelection "+s.SelectionID)
		all = append(all, newSelection("plan-1", s.SelectionID, s.SelectionName, s.CreationDate))
	}
	newestFirst(all, func(s *backup.BackupSelection) (time.Time, string) { return s.CreationDate, s.SelectionID })
	checkListing(t, "ListBackupSelections", all, selectionID, func(p backup.Page) ([]*backup.BackupSelection, string, error) {
		return c.ListBackupSelections(ctx(t), "plan-1", p)
	})
	if _, _, err := c.ListBackupSelections(ctx(t), "missing", backup.Page{}); !backup.IsNotFound(err) {
		t.Fatalf("ListBackupSelections of a missing plan: got %v, want NotFound", err)
	}

	wantCode(t, c.DeleteBackupSelection(ctx(t), "plan-2", "sel-1"), backup.ErrNotFound, "DeleteBackupSelection through another plan")
	must(t, c.DeleteBackupSelection(ctx(t), "plan-1", "sel-1"), "DeleteBackupSelection")
	if _, err := c.GetBackupSelection(ctx(t), "plan-1", "sel-1"); !backup.IsNotFound(err) {
		t.Fatalf("GetBackupSelection after delete: got %v, want NotFound", err)
	}
	wantCode(t, c.DeleteBackupSelection(ctx(t), "plan-1", "sel-1"), backup.ErrNotFound, "DeleteBackupSelection twice")
	must(t, c.CreateBackupSelection(ctx(t), newSelection("plan-1", "sel-4", "tables", at(time.Hour))), "CreateBackupSelection of a name given up")
	sels := collect(t, 0, func(p backup.Page) ([]*backup.BackupSelection, string, error) {
		return c.ListBackupSelections(ctx(t), "plan-1", p)
	})
	if len(sels) != n+1 {
		t.Fatalf("plan-1 has %d selections, want %d", len(sels), n+1)
	}
}

func testRuleCursors(t *testing.T, c backup.Catalog) {
	cursor := func(plan, rule string) time.Time {
		t.Helper()
		got, err := c.RuleCursor(ctx(t), plan, rule)
		must(t, err, "RuleCursor")
		return got
	}
	if got := cursor("plan-1", "rule-1"); !got.IsZero() {
		t.Fatalf("RuleCursor of an unknown rule: %v, want the zero time", got)
	}
	set := func(plan, rule string, at time.Time) {
		t.Helper()
		must(t, c.SetRuleCursor(ctx(t), plan, rule, at), "SetRuleCursor")
	}
	wantCursor := func(what, plan, rule string, want time.Time) {
		t.Helper()
		if got := cursor(plan, rule); !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("%s: RuleCursor %v, want %v in UTC", what, got, want)
		}
	}
	set("plan-1", "rule-1", at(time.Hour).In(time.FixedZone("Y", -7200)))
	wantCursor("after a set", "plan-1", "rule-1", at(time.Hour))
	set("plan-1", "rule-1", at(time.Hour-1))
	wantCursor("after an earlier time", "plan-1", "rule-1", at(time.Hour))
	set("plan-1", "rule-1", time.Time{})
	wantCursor("after the zero time", "plan-1", "rule-1", at(time.Hour))
	set("plan-1", "rule-1", at(time.Hour+1))
	wantCursor("after a later time", "plan-1", "rule-1", at(time.Hour+1))
	// Rules and plans each have their own cursor.
	set("plan-1", "rule-2", at(-time.Hour))
	set("plan-2", "rule-1", at(-2*time.Hour))
	wantCursor("another rule", "plan-1", "rule-2", at(-time.Hour))
	wantCursor("another plan", "plan-2", "rule-1", at(-2*time.Hour))
	wantCursor("the first rule", "plan-1", "rule-1", at(time.Hour+1))
	wantCode(t, c.SetRuleCursor(ctx(t), "", "rule-1", at(0)), backup.ErrMissingParameter, "SetRuleCursor without a plan")

	// Concurrent schedulers: the cursor ends at the latest time any set.
	const setters, sets = 8, 20
	var latest time.Time
	var wg sync.WaitGroup
	for s := range setters {
		for i := range sets {
			if d := at(time.Duration((s*7919+i*104729)%1000) * time.Minute); d.After(latest) {
				latest = d
			}
		}
		wg.Go(func() {
			for i := range sets {
				if err := c.SetRuleCursor(ctx(t), "plan-3", "rule-1", at(time.Duration((s*7919+i*104729)%1000)*time.Minute)); err != nil {
					t.Errorf("SetRuleCursor: %v", err)
				}
			}
		})
	}
	wg.Wait()
	wantCursor("after concurrent sets", "plan-3", "rule-1", latest)
}
