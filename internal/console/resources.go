package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

func (h *Handler) vaults(w http.ResponseWriter, r *http.Request) {
	vs, next, err := h.svc.ListVaults(r.Context(), backup.Page{MaxResults: pageSize, NextToken: r.URL.Query().Get("token")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "vaults", "Vaults", map[string]any{"Vaults": vs, "Next": next})
}

func (h *Handler) vault(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v, err := h.svc.GetVault(ctx, r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := backup.RecoveryPointFilter{Page: backup.Page{MaxResults: pageSize, NextToken: q.Get("token")}, VaultName: v.Name,
		ResourceARN: h.resourceARN(q.Get("resource"))}
	pts, next, err := h.svc.ListRecoveryPoints(ctx, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type row struct {
		*backup.RecoveryPoint
		Cold, Delete any
	}
	rows := make([]row, len(pts))
	for i, p := range pts {
		c, d := p.CalculatedLifecycle()
		rows[i] = row{p, when(c), when(d)}
	}
	h.render(w, r, http.StatusOK, "vault", "Vault "+v.Name, map[string]any{"Vault": v, "Points": rows, "Next": next,
		"Resource": q.Get("resource")})
}

// pointOf reads the point the query names (vault, arn).
func (h *Handler) pointOf(r *http.Request, q url.Values) (*backup.RecoveryPoint, error) {
	vault, arn := q.Get("vault"), q.Get("arn")
	if vault == "" || arn == "" {
		return nil, backup.Errorf(backup.ErrMissingParameter, "name the recovery point: ?vault=NAME&arn=ARN")
	}
	return h.svc.GetRecoveryPoint(r.Context(), vault, arn)
}

// settingRows are a point's saved table settings, as recorded in its
// restore metadata, in words.
var settingNames = []struct{ key, label string }{
	{backup.MetaOriginalTableName, "Table"},
	{backup.MetaTableARN, "Table ARN"},
	{backup.MetaItemCount, "Items"},
	{backup.MetaBillingMode, "Billing mode"},
	{backup.MetaTableClass, "Table class"},
	{backup.MetaEncryptionType, "Encryption"},
	{backup.MetaKMSMasterKeyARN, "KMS key"},
	{backup.MetaDeletionProtection, "Deletion protection"},
	{backup.MetaWarmThroughput, "Warm throughput"},
	{backup.MetaIndexWarmThroughput, "Index warm throughput"},
	{backup.MetaOutOfSpecItems, "Items outside DynamoDB's rules"},
	{backup.MetaContentChecksum, "Content checksum"},
}

type setting struct{ Label, Value string }

func pointSettings(p *backup.RecoveryPoint) []setting {
	var out []setting
	seen := map[string]bool{}
	for _, s := range settingNames {
		if v, ok := p.RestoreMetadata[s.key]; ok && v != "" {
			out = append(out, setting{s.label, v})
			seen[s.key] = true
		}
	}
	for _, k := range sortedKeys(p.RestoreMetadata) {
		if !seen[k] {
			out = append(out, setting{k, p.RestoreMetadata[k]})
		}
	}
	return out
}

func (h *Handler) point(w http.ResponseWriter, r *http.Request) {
	p, err := h.pointOf(r, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.renderPoint(w, r, http.StatusOK, p, restoreForm{Table: backup.TableNameFromARN(p.ResourceARN) + "-restored", CopyTags: true}, "")
}

type restoreForm struct {
	Table, Source string
	CopyTags      bool
}

func (h *Handler) renderPoint(w http.ResponseWriter, r *http.Request, status int, p *backup.RecoveryPoint, f restoreForm, msg string) {
	cold, del := p.CalculatedLifecycle()
	d := map[string]any{
		"Point": p, "Settings": pointSettings(p), "Cold": cold, "Delete": del, "Form": f, "Error": msg,
		"Restorable": p.Status == backup.RecoveryPointCompleted}
	if p.Status == backup.RecoveryPointCompleted {
		t, err := h.pointTable(r.Context(), p.VaultName, p.ARN)
		if err != nil {
			h.log.Warn("console: read a recovery point's table settings", "recovery_point", p.ARN, "error", err)
			d["TableError"] = "The table's recorded settings could not be read from the vault; the server's log says why."
		}
		d["Table"] = t
	}
	h.render(w, r, status, "point", "Recovery point "+short(p.ID), d)
}

// restore starts a restore job from the point's page and shows the job,
// which the page follows live to its end.
func (h *Handler) restore(w http.ResponseWriter, r *http.Request) {
	p, err := h.pointOf(r, r.PostForm)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := restoreForm{Table: strings.TrimSpace(r.PostFormValue("table")), Source: strings.TrimSpace(r.PostFormValue("source")),
		CopyTags: r.PostFormValue("copy_tags") == "on"}
	if err := backup.ValidateTableName(f.Table); err != nil {
		h.renderPoint(w, r, http.StatusBadRequest, p, f, err.(*backup.Error).Message+". Choose another name for the new table.")
		return
	}
	meta := map[string]string{backup.MetaTargetTableName: f.Table}
	if f.Source != "" {
		meta[backup.MetaTargetSource] = f.Source
	}
	j, err := h.svc.StartRestoreJob(r.Context(), backup.StartRestoreJobInput{RecoveryPointARN: p.ARN, Metadata: meta,
		ResourceType: backup.ResourceTypeDynamoDB, CopySourceTags: f.CopyTags,
		IAMRoleARN: fmt.Sprintf(DefaultRoleARN, h.cfg.AccountID)})
	if err != nil {
		var be *backup.Error
		if ok := asBackupError(err, &be); ok && be.Code != backup.ErrInternal {
			h.renderPoint(w, r, http.StatusBadRequest, p, f, be.Message)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: restore started", "job", j.ID, "recovery_point", p.ARN, "table", f.Table, "access_key_id", sessionOf(r.Context()).accessKeyID)
	http.Redirect(w, r, Prefix+"restore-jobs/"+url.PathEscape(j.ID), http.StatusSeeOther)
}

func (h *Handler) deleteConfirm(w http.ResponseWriter, r *http.Request) {
	p, err := h.pointOf(r, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "confirm", "Delete recovery point?", confirmData{
		Question: "Delete recovery point " + p.ID + " of " + backup.TableNameFromARN(p.ResourceARN) + "?",
		Detail:   "Its data is removed from vault " + p.VaultName + " and it cannot be restored afterwards. This cannot be undone.",
		Action:   Prefix + "point/delete", Button: "Delete recovery point", Danger: true,
		Fields: map[string]string{"vault": p.VaultName, "arn": p.ARN},
		Back:   Prefix + "point?vault=" + url.QueryEscape(p.VaultName) + "&arn=" + url.QueryEscape(p.ARN)})
}

func (h *Handler) deletePoint(w http.ResponseWriter, r *http.Request) {
	vault, arn := r.PostFormValue("vault"), r.PostFormValue("arn")
	if err := h.svc.DeleteRecoveryPoint(r.Context(), vault, arn); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: recovery point deleted", "vault", vault, "recovery_point", arn, "access_key_id", sessionOf(r.Context()).accessKeyID)
	http.Redirect(w, r, Prefix+"vaults/"+url.PathEscape(vault), http.StatusSeeOther)
}

// confirmData is the confirmation step of an action.
type confirmData struct {
	Question, Detail, Action, Button, Back string
	Danger                                 bool
	Fields                                 map[string]string
}

func (h *Handler) stopConfirm(w http.ResponseWriter, r *http.Request) {
	j, err := h.svc.GetBackupJob(r.Context(), r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "confirm", "Stop backup job?", confirmData{
		Question: "Stop backup job " + j.ID + " of " + backup.TableNameFromARN(j.ResourceARN) + "?",
		Detail:   "The job ends ABORTED and its partial recovery point is removed.",
		Action:   Prefix + "backup-jobs/" + url.PathEscape(j.ID) + "/stop", Button: "Stop job", Danger: true,
		Back: Prefix + "backup-jobs/" + url.PathEscape(j.ID)})
}

func (h *Handler) stop(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := h.svc.StopBackupJob(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: backup job stopped", "job", id, "access_key_id", sessionOf(r.Context()).accessKeyID)
	http.Redirect(w, r, Prefix+"backup-jobs/"+url.PathEscape(id), http.StatusSeeOther)
}

// backupForm asks for an on-demand backup: the table and the vault.
func (h *Handler) backupForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "backup-new", "Start an on-demand backup", map[string]any{
		"Vaults": h.vaultNames(r), "Resource": r.URL.Query().Get("resource"), "Vault": "Default"})
}

// onDemand reads and checks the on-demand backup form.
func (h *Handler) onDemand(r *http.Request) (backup.StartBackupJobInput, error) {
	in := backup.StartBackupJobInput{VaultName: strings.TrimSpace(r.PostFormValue("vault")),
		ResourceARN: h.resourceARN(r.PostFormValue("resource")), IAMRoleARN: fmt.Sprintf(DefaultRoleARN, h.cfg.AccountID)}
	if in.VaultName == "" || in.ResourceARN == "" {
		return in, backup.Errorf(backup.ErrMissingParameter, "name the table (or its ARN) and the vault")
	}
	if _, _, err := backup.ParseTableARN(in.ResourceARN); err != nil {
		return in, err
	}
	if _, err := h.svc.GetVault(r.Context(), in.VaultName); err != nil {
		return in, err
	}
	return in, nil
}

func (h *Handler) backupConfirm(w http.ResponseWriter, r *http.Request) {
	in, err := h.onDemand(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "confirm", "Start backup?", confirmData{
		Question: "Back up table " + backup.TableNameFromARN(in.ResourceARN) + " into vault " + in.VaultName + " now?",
		Detail:   "A backup job starts at once and scans the whole table (" + in.ResourceARN + ").",
		Action:   Prefix + "backup/start", Button: "Start backup",
		Fields: map[string]string{"vault": in.VaultName, "resource": in.ResourceARN},
		Back:   Prefix + "backup/new"})
}

func (h *Handler) backupStart(w http.ResponseWriter, r *http.Request) {
	in, err := h.onDemand(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	j, err := h.svc.StartBackupJob(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("console: backup started", "job", j.ID, "resource", in.ResourceARN, "vault", in.VaultName, "access_key_id", sessionOf(r.Context()).accessKeyID)
	http.Redirect(w, r, Prefix+"backup-jobs/"+url.PathEscape(j.ID), http.StatusSeeOther)
}

func (h *Handler) plans(w http.ResponseWriter, r *http.Request) {
	plans, next, err := h.svc.ListBackupPlans(r.Context(), backup.BackupPlanFilter{Page: backup.Page{MaxResults: pageSize, NextToken: r.URL.Query().Get("token")}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "plans", "Backup plans", map[string]any{"Plans": plans, "Next": next})
}

func (h *Handler) plan(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, runs, err := h.svc.GetBackupPlan(ctx, r.PathValue("id"), "", 10)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sels, _, err := h.svc.ListBackupSelections(ctx, p.ID, backup.Page{MaxResults: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type run struct {
		backup.ScheduledRun
		Rule string
	}
	rs := make([]run, len(runs))
	for i, x := range runs {
		rs[i] = run{ScheduledRun: x}
		if rule := p.Rule(x.RuleID); rule != nil {
			rs[i].Rule = rule.RuleName
		}
	}
	h.render(w, r, http.StatusOK, "plan", "Plan "+p.BackupPlanName, map[string]any{"Plan": p, "Runs": rs, "Selections": sels})
}

func (h *Handler) protected(w http.ResponseWriter, r *http.Request) {
	res, next, err := h.svc.ListProtectedResources(r.Context(), backup.Page{MaxResults: pageSize, NextToken: r.URL.Query().Get("token")})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "protected", "Protected resources", map[string]any{"Resources": res, "Next": next})
}

// explain is `cairn explain` on a page: which plans cover a table, and why.
func (h *Handler) explain(w http.ResponseWriter, r *http.Request) {
	res := strings.TrimSpace(r.URL.Query().Get("resource"))
	d := map[string]any{"Resource": res}
	if res != "" {
		arn := h.resourceARN(res)
		if _, _, err := backup.ParseTableARN(arn); err != nil {
			h.fail(w, r, err)
			return
		}
		e, err := h.svc.ExplainResource(r.Context(), arn)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d["Explanation"], d["Covered"] = e, e.Covered()
	}
	h.render(w, r, http.StatusOK, "explain", "Explain", d)
}
