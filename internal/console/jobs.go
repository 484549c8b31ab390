package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// pageSize is the number of rows of a list page.
const pageSize = 50

// ranges are the time range filter's choices, as AWS's console offers them.
var ranges = []struct{ Value, Label string }{
	{"", "Any time"}, {"1h", "Last hour"}, {"24h", "Last 24 hours"}, {"7d", "Last 7 days"},
	{"14d", "Last 14 days"}, {"30d", "Last 30 days"},
}

var rangeDur = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour,
	"14d": 14 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

var backupStates = []string{"CREATED", "PENDING", "RUNNING", "ABORTING", "ABORTED", "COMPLETED", "FAILED", "EXPIRED", "PARTIAL"}
var restoreStates = []string{"PENDING", "RUNNING", "COMPLETED", "ABORTED", "FAILED"}
var copyStates = []string{"CREATED", "RUNNING", "COMPLETED", "FAILED", "PARTIAL"}

// listQuery is a list page's filters as the form and the links carry them.
type listQuery struct {
	State, Resource, Vault, Range, Token string
}

func parseListQuery(r *http.Request, states []string) (listQuery, error) {
	q := r.URL.Query()
	lq := listQuery{State: q.Get("state"), Resource: q.Get("resource"), Vault: q.Get("vault"),
		Range: q.Get("range"), Token: q.Get("token")}
	if lq.State != "" && !contains(states, lq.State) {
		return lq, backup.Errorf(backup.ErrInvalidParameter, "state %q is not one of %v", lq.State, states)
	}
	if _, ok := rangeDur[lq.Range]; lq.Range != "" && !ok {
		return lq, backup.Errorf(backup.ErrInvalidParameter, "range %q is not one of 1h, 24h, 7d, 14d, 30d", lq.Range)
	}
	return lq, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (lq listQuery) since(now time.Time) time.Time {
	if d, ok := rangeDur[lq.Range]; ok {
		return now.Add(-d)
	}
	return time.Time{}
}

// Link is the query string of these filters at another page token.
func (lq listQuery) Link(token string) string {
	v := url.Values{}
	for k, s := range map[string]string{"state": lq.State, "resource": lq.Resource, "vault": lq.Vault, "range": lq.Range, "token": token} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return "?"
	}
	return "?" + v.Encode()
}

// listData is what a list page template gets.
type listData struct {
	Query   listQuery
	States  []string
	Ranges  any
	Vaults  []*backup.Vault
	Rows    any
	Next    string
	IDs     string
	Running bool
}

func (h *Handler) vaultNames(r *http.Request) []*backup.Vault {
	vs, _, err := h.svc.ListVaults(r.Context(), backup.Page{MaxResults: 100})
	if err != nil {
		h.log.Warn("console: list vaults for a filter", "error", err)
	}
	return vs
}

func (h *Handler) backupJobs(w http.ResponseWriter, r *http.Request) {
	lq, err := parseListQuery(r, backupStates)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := backup.BackupJobFilter{Page: backup.Page{MaxResults: pageSize, NextToken: lq.Token},
		ResourceARN: h.resourceARN(lq.Resource), VaultName: lq.Vault, CreatedAfter: lq.since(h.now())}
	if lq.State != "" {
		f.States = []backup.JobState{backup.JobState(lq.State)}
	}
	jobs, next, err := h.svc.ListBackupJobs(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := listData{Query: lq, States: backupStates, Ranges: ranges, Vaults: h.vaultNames(r), Rows: jobs, Next: next}
	for _, j := range jobs {
		if j.State.Active() {
			d.Running = true
		}
	}
	h.render(w, r, http.StatusOK, "backup-jobs", "Backup jobs", d)
}

func (h *Handler) restoreJobs(w http.ResponseWriter, r *http.Request) {
	lq, err := parseListQuery(r, restoreStates)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := backup.RestoreJobFilter{Page: backup.Page{MaxResults: pageSize, NextToken: lq.Token}, CreatedAfter: lq.since(h.now())}
	if lq.State != "" {
		f.Statuses = []backup.RestoreJobStatus{backup.RestoreJobStatus(lq.State)}
	}
	jobs, next, err := h.svc.ListRestoreJobs(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := listData{Query: lq, States: restoreStates, Ranges: ranges, Rows: jobs, Next: next}
	for _, j := range jobs {
		if !j.Status.Terminal() {
			d.Running = true
		}
	}
	h.render(w, r, http.StatusOK, "restore-jobs", "Restore jobs", d)
}

func (h *Handler) copyJobs(w http.ResponseWriter, r *http.Request) {
	lq, err := parseListQuery(r, copyStates)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := backup.CopyJobFilter{Page: backup.Page{MaxResults: pageSize, NextToken: lq.Token},
		ResourceARN: h.resourceARN(lq.Resource), CreatedAfter: lq.since(h.now())}
	if lq.State != "" {
		f.States = []backup.CopyJobState{backup.CopyJobState(lq.State)}
	}
	if lq.Vault != "" {
		v, err := h.svc.GetVault(r.Context(), lq.Vault)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		f.DestinationBackupVaultARN = v.ARN
	}
	jobs, next, err := h.svc.ListCopyJobs(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := listData{Query: lq, States: copyStates, Ranges: ranges, Vaults: h.vaultNames(r), Rows: jobs, Next: next}
	for _, j := range jobs {
		if !j.State.Terminal() {
			d.Running = true
		}
	}
	h.render(w, r, http.StatusOK, "copy-jobs", "Copy jobs", d)
}

func (h *Handler) backupJob(w http.ResponseWriter, r *http.Request) {
	j, err := h.svc.GetBackupJob(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "backup-job", "Backup job "+short(j.ID), j)
}

func (h *Handler) restoreJob(w http.ResponseWriter, r *http.Request) {
	j, err := h.svc.GetRestoreJob(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	target, _ := backup.MetadataValue(j.Metadata, backup.MetaTargetTableName)
	d := map[string]any{"Job": j, "Target": target}
	if id, err := backup.ParseRecoveryPointARN(j.RecoveryPointARN); err == nil {
		d["PointID"] = id
	}
	if v, err := backup.ParseARN(j.VaultARN); err == nil {
		d["Vault"] = vaultFromResource(v.Resource)
	}
	h.render(w, r, http.StatusOK, "restore-job", "Restore job "+short(j.ID), d)
}

func (h *Handler) copyJob(w http.ResponseWriter, r *http.Request) {
	j, err := h.svc.GetCopyJob(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := map[string]any{"Job": j}
	if v, err := backup.ParseARN(j.SourceBackupVaultARN); err == nil {
		d["SourceVault"] = vaultFromResource(v.Resource)
	}
	if v, err := backup.ParseARN(j.DestinationBackupVaultARN); err == nil {
		d["DestVault"] = vaultFromResource(v.Resource)
	}
	h.render(w, r, http.StatusOK, "copy-job", "Copy job "+short(j.ID), d)
}

// vaultFromResource is the vault name of an ARN's resource part
// ("backup-vault:NAME").
func vaultFromResource(res string) string {
	if n, ok := strings.CutPrefix(res, "backup-vault:"); ok {
		return n
	}
	return ""
}
