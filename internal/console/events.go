package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// maxWatched bounds the jobs one progress stream follows.
const maxWatched = 100

// progress is one job's live state, as the stream sends it. The page's
// script puts each field into the element marked data-field=NAME inside
// the element marked data-job=KEY.
type progress struct {
	Key       string `json:"key"` // "backup:ID", "restore:ID", "copy:ID"
	State     string `json:"state"`
	StateText string `json:"stateText"`
	StateHTML string `json:"stateHtml"`
	Percent   string `json:"percent"`
	Items     string `json:"items"`
	Bytes     string `json:"bytes"`
	Rate      string `json:"rate"`
	Message   string `json:"message"`
	// Validation is a restore's validation result, in words.
	Validation string `json:"validation,omitempty"`
	Completed  string `json:"completed,omitempty"`
	Terminal   bool   `json:"terminal"`

	bytes int64
}

// events streams the progress of the jobs named in the query (backup=ID,
// restore=ID, copy=ID, each repeatable) as server-sent events: one
// "progress" event per job whenever it changes, until every job has ended
// or the browser goes away. It reads the jobs through the service every
// PollInterval.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var keys []string
	for _, kind := range []string{"backup", "restore", "copy"} {
		for _, v := range q[kind] {
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					keys = append(keys, kind+":"+id)
				}
			}
		}
	}
	if len(keys) == 0 || len(keys) > maxWatched {
		http.Error(w, fmt.Sprintf("name 1 to %d jobs to follow: ?backup=ID&restore=ID&copy=ID", maxWatched), http.StatusBadRequest)
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	fl.Flush()

	ctx := r.Context()
	last := map[string]progress{}
	lastAt := map[string]time.Time{}
	done := map[string]bool{}
	ticker := time.NewTicker(h.cfg.PollInterval)
	defer ticker.Stop()
	for {
		for _, k := range keys {
			if done[k] {
				continue
			}
			p, err := h.readProgress(ctx, k)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				done[k] = true
				continue
			}
			now := time.Now()
			if prev, ok := last[k]; ok {
				if dt := now.Sub(lastAt[k]).Seconds(); dt > 0 && p.bytes > prev.bytes {
					p.Rate = humanSize(int64(float64(p.bytes-prev.bytes)/dt)) + "/s"
				}
				if p.sameAs(prev) {
					continue
				}
			}
			last[k], lastAt[k] = p, now
			b, _ := json.Marshal(p)
			if _, err := fmt.Fprintf(w, "event: progress\ndata: %s\n\n", b); err != nil {
				return
			}
			if p.Terminal {
				done[k] = true
			}
		}
		fl.Flush()
		if len(done) == len(keys) {
			fmt.Fprint(w, "event: end\ndata: {}\n\n")
			fl.Flush()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-h.closed:
			return
		case <-ticker.C:
		}
	}
}

func (p progress) sameAs(o progress) bool {
	return p.State == o.State && p.Percent == o.Percent && p.Items == o.Items && p.Bytes == o.Bytes && p.Message == o.Message
}

func (h *Handler) readProgress(ctx context.Context, key string) (progress, error) {
	kind, id, _ := strings.Cut(key, ":")
	p := progress{Key: key}
	var completed time.Time
	switch kind {
	case "backup":
		j, err := h.svc.GetBackupJob(ctx, id)
		if err != nil {
			return p, err
		}
		p.State, p.Terminal, p.Message = string(j.State), j.State.Terminal(), j.StatusMessage
		p.Percent = fmt.Sprintf("%.1f %%", j.PercentDone)
		p.Items = fmt.Sprint(j.ItemCount)
		p.bytes = j.BytesTransferred
		if j.State == backup.JobCompleted {
			p.bytes = j.BackupSizeInBytes
		}
		completed = j.CompletionDate
	case "restore":
		j, err := h.svc.GetRestoreJob(ctx, id)
		if err != nil {
			return p, err
		}
		p.State, p.Terminal, p.Message = string(j.Status), j.Status.Terminal(), j.StatusMessage
		p.Percent = fmt.Sprintf("%.1f %%", j.PercentDone)
		p.Items = fmt.Sprint(j.ItemsRestored)
		p.bytes = j.BackupSizeInBytes
		completed = j.CompletionDate
		if j.ValidationStatus != "" {
			p.Validation = strings.TrimSpace(stateWords(j.ValidationStatus) + " " + j.ValidationStatusMessage)
		}
	case "copy":
		j, err := h.svc.GetCopyJob(ctx, id)
		if err != nil {
			return p, err
		}
		p.State, p.Terminal, p.Message = string(j.State), j.State.Terminal(), j.StatusMessage
		p.bytes = j.BackupSizeInBytes
		completed = j.CompletionDate
	}
	p.StateText = stateWords(p.State)
	p.StateHTML = string(stateBadge(p.State))
	p.Bytes = humanSize(p.bytes)
	if !completed.IsZero() {
		p.Completed = completed.UTC().Format(time.RFC3339)
	}
	return p, nil
}
