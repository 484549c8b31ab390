package catalogtest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// testCheckpoints: SaveCheckpoint replaces the part's checkpoint, listings
// are by part and per job, state comes back byte for byte, deletes are per
// job and idempotent, missing JobID or UpdatedAt is refused and concurrent
// saves of several parts of one job all land.
func testCheckpoints(t *testing.T, c backup.Catalog) {
	list := func(job string) []*backup.Checkpoint {
		t.Helper()
		cps, err := c.ListCheckpoints(ctx(t), job)
		must(t, err, "ListCheckpoints")
		return cps
	}
	if cps := list("none"); len(cps) != 0 {
		t.Fatalf("ListCheckpoints of a job without any = %v", cps)
	}
	state := []byte(`{"key":{"pk":{"S":"a\"b\u00e9"}},"files":[{"k":"x"}],"items":12}`)
	cp := &backup.Checkpoint{JobID: "job-1", Part: 3, Target: "point-1", State: state, UpdatedAt: at(time.Second)}
	must(t, c.SaveCheckpoint(ctx(t), cp), "SaveCheckpoint")
	state[0] = 'X' // stored values are copies
	must(t, c.SaveCheckpoint(ctx(t), &backup.Checkpoint{JobID: "job-1", Part: 0, Target: "point-1", Done: true,
		State: []byte(`{}`), UpdatedAt: at(2 * time.Second)}), "SaveCheckpoint")
	must(t, c.SaveCheckpoint(ctx(t), &backup.Checkpoint{JobID: "job-2", Part: 3, Target: "point-2",
		State: []byte(`{"other":true}`), UpdatedAt: at(time.Second)}), "SaveCheckpoint")
	got := list("job-1")
	want := []*backup.Checkpoint{
		{JobID: "job-1", Part: 0, Target: "point-1", Done: true, State: []byte(`{}`), UpdatedAt: at(2 * time.Second)},
		{JobID: "job-1", Part: 3, Target: "point-1", State: []byte(`{"key":{"pk":{"S":"a\"b\u00e9"}},"files":[{"k":"x"}],"items":12}`), UpdatedAt: at(time.Second)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListCheckpoints = %s\nwant %s", cpText(got), cpText(want))
	}
	// A later save of a part replaces it.
	must(t, c.SaveCheckpoint(ctx(t), &backup.Checkpoint{JobID: "job-1", Part: 3, Target: "point-1", Done: true,
		State: []byte(`{"items":40}`), UpdatedAt: at(3 * time.Second)}), "SaveCheckpoint")
	got = list("job-1")
	if len(got) != 2 || !got[1].Done || string(got[1].State) != `{"items":40}` || !got[1].UpdatedAt.Equal(at(3*time.Second)) {
		t.Fatalf("after replacing part 3: %s", cpText(got))
	}
	wantCode(t, c.SaveCheckpoint(ctx(t), &backup.Checkpoint{Part: 1, UpdatedAt: at(0)}), backup.ErrMissingParameter, "SaveCheckpoint without JobID")
	wantCode(t, c.SaveCheckpoint(ctx(t), &backup.Checkpoint{JobID: "job-3", Part: 1}), backup.ErrMissingParameter, "SaveCheckpoint without UpdatedAt")
	if cps := list("job-3"); len(cps) != 0 {
		t.Fatalf("a refused save stored %s", cpText(cps))
	}
	must(t, c.DeleteCheckpoints(ctx(t), "job-1"), "DeleteCheckpoints")
	must(t, c.DeleteCheckpoints(ctx(t), "job-1"), "DeleteCheckpoints again")
	if cps := list("job-1"); len(cps) != 0 {
		t.Fatalf("after DeleteCheckpoints: %s", cpText(cps))
	}
	if cps := list("job-2"); len(cps) != 1 || string(cps[0].State) != `{"other":true}` {
		t.Fatalf("DeleteCheckpoints of job-1 touched job-2: %s", cpText(cps))
	}
	// The segments of a backup save their checkpoints concurrently.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for part := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 4 {
				errs <- c.SaveCheckpoint(ctx(t), &backup.Checkpoint{JobID: "job-4", Part: part, Target: "p",
					State: fmt.Appendf(nil, `{"round":%d}`, round), UpdatedAt: at(time.Duration(round+1) * time.Second)})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err, "concurrent SaveCheckpoint")
	}
	got = list("job-4")
	if len(got) != 16 {
		t.Fatalf("concurrent saves: %d checkpoints, want 16", len(got))
	}
	for i, cp := range got {
		if cp.Part != i || string(cp.State) != `{"round":3}` {
			t.Fatalf("concurrent saves: checkpoint %d = %s", i, cpText([]*backup.Checkpoint{cp}))
		}
	}
}

func cpText(cps []*backup.Checkpoint) string {
	s := "["
	for _, cp := range cps {
		s += fmt.Sprintf("{%s %d %s done=%v %s %s} ", cp.JobID, cp.Part, cp.Target, cp.Done, cp.State, cp.UpdatedAt.Format(time.RFC3339Nano))
	}
	return s + "]"
}
