package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Subject is a one-line summary of ev: its type, what it concerns and
// where, e.g. "BACKUP_JOB_FAILED: orders (vault Default)". Email subjects
// and chat messages start with it.
func Subject(ev backup.Event) string {
	what := ev.ResourceName
	if what == "" {
		what = ev.ResourceARN
	}
	if what == "" && ev.CreatedBy != nil {
		what = "plan " + ev.CreatedBy.BackupPlanName
	}
	s := string(ev.Type)
	if what != "" {
		s += ": " + what
	}
	if ev.VaultName != "" {
		s += " (vault " + ev.VaultName + ")"
	}
	return s
}

// Text is ev as a few lines of plain text: the subject, then the fields
// that are set. Chat messages (the webhook's slack format) and email bodies are it.
func Text(ev backup.Event) string {
	var b strings.Builder
	b.WriteString(Subject(ev))
	b.WriteString("\n")
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			line(k, fmt.Sprint(v))
		}
	}
	line("State", ev.State)
	line("Status message", ev.StatusMessage)
	line("Job", strings.TrimSpace(ev.JobType+" "+ev.JobID))
	line("Resource", ev.ResourceARN)
	line("Recovery point", ev.RecoveryPointARN)
	line("Destination vault", ev.DestinationVaultARN)
	line("Vault", ev.VaultARN)
	num("Backup size (bytes)", ev.BackupSizeInBytes)
	num("Bytes transferred", ev.BytesTransferred)
	num("Items", ev.ItemCount)
	if ev.CreatedBy != nil && ev.CreatedBy.BackupPlanName != "" {
		line("Plan", strings.TrimSpace(ev.CreatedBy.BackupPlanName+" "+ev.CreatedBy.BackupRuleName))
	}
	line("Time", stampText(ev.Time))
	line("Event id", ev.ID)
	return b.String()
}

func stampText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
