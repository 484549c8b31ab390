package catalogtest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

func newFramework(name string, controls int) *backup.Framework {
	f := &backup.Framework{
		Name: name, ARN: fmt.Sprintf("arn:aws:backup:%s:%s:framework:%s-6f1b2c3d", region, account, name),
		Description: "audit of " + name, CreationTime: at(0), DeploymentStatus: backup.DeploymentCompleted,
		FrameworkStatus: backup.FrameworkActive, IdempotencyToken: "token-" + name, Tags: map[string]string{"team": "a"},
		AccountID: account, Region: region,
	}
	for i := range controls {
		c := backup.FrameworkControl{Name: backup.Controls[i%len(backup.Controls)].Name}
		if i == 0 {
			c.InputParameters = []backup.ControlInputParameter{{Name: "requiredRetentionDays", Value: "35"}}
			c.Scope = backup.ControlScope{ComplianceResourceIDs: []string{"orders"}, ComplianceResourceTypes: []string{"DynamoDB"},
				Tags: map[string]string{"backup": ""}}
		}
		f.Controls = append(f.Controls, c)
	}
	return f
}

// testFrameworks: round trip, names unique, listing by name, update keeps
// what creation fixed, delete, and the account's limits.
func testFrameworks(t *testing.T, c backup.Catalog) {
	f := newFramework("fw_a", 3)
	must(t, c.CreateFramework(ctx(t), f), "CreateFramework")
	got, err := c.GetFramework(ctx(t), "fw_a")
	must(t, err, "GetFramework")
	if !reflect.DeepEqual(got, f) {
		t.Fatalf("GetFramework:\n got %+v\nwant %+v", got, f)
	}
	wantCode(t, c.CreateFramework(ctx(t), newFramework("fw_a", 1)), backup.ErrAlreadyExists, "CreateFramework of a taken name")
	_, err = c.GetFramework(ctx(t), "nope")
	wantCode(t, err, backup.ErrNotFound, "GetFramework of an unknown name")

	for _, n := range []string{"fw_c", "fw_b"} {
		must(t, c.CreateFramework(ctx(t), newFramework(n, 1)), "CreateFramework "+n)
	}
	for _, size := range []int{0, 1, 2} {
		all := collect(t, size, func(p backup.Page) ([]*backup.Framework, string, error) { return c.ListFrameworks(ctx(t), p) })
		var names []string
		for _, f := range all {
			names = append(names, f.Name)
		}
		if !reflect.DeepEqual(names, []string{"fw_a", "fw_b", "fw_c"}) {
			t.Errorf("ListFrameworks (MaxResults %d): %v", size, names)
		}
	}

	up := newFramework("fw_a", 1)
	up.Description, up.IdempotencyToken = "changed", "token-2"
	up.ARN, up.CreationTime, up.Tags = "arn:other", at(5), nil
	must(t, c.UpdateFramework(ctx(t), up), "UpdateFramework")
	got, err = c.GetFramework(ctx(t), "fw_a")
	must(t, err, "GetFramework after update")
	if got.Description != "changed" || got.IdempotencyToken != "token-2" || len(got.Controls) != 1 ||
		got.ARN != f.ARN || !got.CreationTime.Equal(f.CreationTime) || got.Tags["team"] != "a" {
		t.Errorf("after UpdateFramework: %+v", got)
	}
	wantCode(t, c.UpdateFramework(ctx(t), newFramework("nope", 1)), backup.ErrNotFound, "UpdateFramework of an unknown name")

	must(t, c.DeleteFramework(ctx(t), "fw_b"), "DeleteFramework")
	wantCode(t, c.DeleteFramework(ctx(t), "fw_b"), backup.ErrNotFound, "DeleteFramework twice")
	_, err = c.GetFramework(ctx(t), "fw_b")
	wantCode(t, err, backup.ErrNotFound, "GetFramework of a deleted framework")

	_, _, err = c.ListFrameworks(ctx(t), backup.Page{NextToken: "garbage"})
	wantCode(t, err, backup.ErrInvalidParameter, "ListFrameworks with a foreign NextToken")
}

// testFrameworkLimits: at most MaxFrameworks frameworks and
// MaxFrameworkControls controls in all, also under concurrent creations.
func testFrameworkLimits(t *testing.T, c backup.Catalog) {
	// 10 frameworks of 5 controls: both limits reached at once.
	var wg sync.WaitGroup
	errs := make([]error, backup.MaxFrameworks+5)
	for i := range errs {
		wg.Go(func() { errs[i] = c.CreateFramework(ctx(t), newFramework(fmt.Sprintf("fw_%02d", i), 5)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantCode(t, err, backup.ErrLimitExceeded, "CreateFramework past the limit")
		}
	}
	if ok != backup.MaxFrameworks {
		t.Fatalf("%d concurrent creations succeeded, want %d", ok, backup.MaxFrameworks)
	}
	all, _, err := c.ListFrameworks(ctx(t), backup.Page{MaxResults: 100})
	must(t, err, "ListFrameworks")
	if len(all) != backup.MaxFrameworks {
		t.Fatalf("%d frameworks stored, want %d", len(all), backup.MaxFrameworks)
	}
	// An update that adds a control passes the controls limit.
	wantCode(t, c.UpdateFramework(ctx(t), newFramework(all[0].Name, 6)), backup.ErrLimitExceeded, "UpdateFramework past the controls limit")
	// One that removes some makes room for a framework's controls, not for
	// an eleventh framework.
	must(t, c.UpdateFramework(ctx(t), newFramework(all[0].Name, 1)), "UpdateFramework to fewer controls")
	must(t, c.DeleteFramework(ctx(t), all[1].Name), "DeleteFramework")
	wantCode(t, c.CreateFramework(ctx(t), newFramework("fw_big", 10)), backup.ErrLimitExceeded, "CreateFramework past the controls limit")
	must(t, c.CreateFramework(ctx(t), newFramework("fw_fits", 9)), "CreateFramework within the limits")
}
