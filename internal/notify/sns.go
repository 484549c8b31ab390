package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-backup/cairn/internal/backup"
)

// SNSPublisher is the one call of aws-sdk-go-v2's SNS client the SNS
// target makes.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SNSSubject is the subject of cairn's SNS messages (AWS Backup's is
// "Notification from AWS Backup").
const SNSSubject = "Notification from cairn (AWS Backup API)"

// SNSTarget publishes events to an SNS topic as AWS Backup does: a text
// message and the message attributes AWS Backup sets (EventType, State,
// AccountId, Id, StartTime), so that a subscription's filter policy
// written for AWS Backup works unchanged; and cairn's own: EventName (the
// BackupVaultEvents name), EventId (for deduplication), BackupVaultName.
type SNSTarget struct {
	Client   SNSPublisher
	TopicARN string
}

// Kind implements Target.
func (t *SNSTarget) Kind() string { return "sns" }

// Name implements Target: the topic's ARN.
func (t *SNSTarget) Name() string { return t.TopicARN }

// Deliver implements Target: one Publish to the topic, in the topic's
// region. Answers that retrying cannot change (the topic does not exist,
// access denied, invalid parameters) are permanent errors; throttling,
// 5xx answers and network errors are retried.
func (t *SNSTarget) Deliver(ctx context.Context, ev backup.Event) error {
	in := SNSMessage(ev)
	in.TopicArn = aws.String(t.TopicARN)
	var opts []func(*sns.Options)
	if a, err := backup.ParseARN(t.TopicARN); err == nil && a.Region != "" {
		opts = append(opts, func(o *sns.Options) { o.Region = a.Region })
	}
	_, err := t.Client.Publish(ctx, in, opts...)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("publish to %s: %w", t.TopicARN, err)
	if snsPermanent(err) {
		return &PermanentError{Err: err}
	}
	return err
}

// snsPermanent reports whether err is an SNS answer retrying cannot fix.
func snsPermanent(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		code := re.HTTPStatusCode()
		if code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500 {
			return false
		}
		var ae smithy.APIError
		if errors.As(err, &ae) && strings.Contains(ae.ErrorCode(), "Throttl") {
			return false
		}
		return code >= 400
	}
	return false
}

// SNSMessage returns the Publish input (without the topic) of ev: the
// subject, the text and the message attributes.
func SNSMessage(ev backup.Event) *sns.PublishInput {
	attrs := map[string]snstypes.MessageAttributeValue{}
	set := func(k, v string) {
		if v != "" {
			attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
		}
	}
	set("EventType", attributeEventType(ev))
	set("State", attributeState(ev))
	set("AccountId", ev.AccountID)
	set("Id", attributeID(ev))
	if !ev.CreationDate.IsZero() {
		set("StartTime", ev.CreationDate.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	set("EventName", string(ev.Type))
	set("EventId", ev.ID)
	set("BackupVaultName", ev.VaultName)
	return &sns.PublishInput{
		Subject:           aws.String(SNSSubject),
		Message:           aws.String(MessageText(ev)),
		MessageAttributes: attrs,
	}
}

// attributeEventType is AWS Backup's EventType attribute: the kind of
// thing the event is about.
func attributeEventType(ev backup.Event) string {
	switch {
	case ev.JobType != "":
		return ev.JobType
	case ev.Type == backup.EventRecoveryPointModified:
		return "RECOVERY_POINT"
	case ev.Type == backup.EventBackupPlanCreated || ev.Type == backup.EventBackupPlanModified:
		return "BACKUP_PLAN"
	case ev.Type == backup.EventTest:
		return "TEST"
	}
	return string(ev.Type)
}

// attributeState is AWS Backup's State attribute: a job's state after the
// change; a point's status; CREATED or MODIFIED for a plan; TEST for a
// test event.
func attributeState(ev backup.Event) string {
	switch ev.Type {
	case backup.EventBackupPlanCreated:
		return "CREATED"
	case backup.EventBackupPlanModified:
		return "MODIFIED"
	case backup.EventTest:
		return "TEST"
	}
	return ev.State
}

// attributeID is AWS Backup's Id attribute: the job's ID, else the
// recovery point's ARN or the plan's ID.
func attributeID(ev backup.Event) string {
	switch {
	case ev.JobID != "":
		return ev.JobID
	case ev.RecoveryPointARN != "":
		return ev.RecoveryPointARN
	case ev.CreatedBy != nil && ev.CreatedBy.BackupPlanID != "":
		return ev.CreatedBy.BackupPlanID
	}
	return ev.ID
}

// MessageText is the text of an event's message: one sentence saying what
// happened, then the ARNs and IDs with AWS Backup's labels ("Recovery
// point ARN: ... Resource ARN : ... BackupJob ID : ...").
func MessageText(ev backup.Event) string {
	var b strings.Builder
	kind := map[string]string{backup.JobTypeBackup: "backup", backup.JobTypeRestore: "restore", backup.JobTypeCopy: "copy"}[ev.JobType]
	switch ev.Type {
	case backup.EventBackupJobStarted, backup.EventRestoreJobStarted, backup.EventCopyJobStarted:
		fmt.Fprintf(&b, "A cairn %s job has started.", kind)
	case backup.EventBackupJobCompleted, backup.EventRestoreJobCompleted:
		fmt.Fprintf(&b, "A cairn %s job has ended in state %s.", kind, ev.State)
	case backup.EventBackupJobSuccessful, backup.EventRestoreJobSuccessful, backup.EventCopyJobSuccessful:
		fmt.Fprintf(&b, "A cairn %s job was completed successfully.", kind)
	case backup.EventBackupJobFailed, backup.EventRestoreJobFailed, backup.EventCopyJobFailed:
		fmt.Fprintf(&b, "A cairn %s job failed (state %s).", kind, ev.State)
	case backup.EventBackupJobExpired:
		fmt.Fprintf(&b, "A cairn backup job expired: its start or completion window passed.")
	case backup.EventRecoveryPointModified:
		fmt.Fprintf(&b, "A cairn recovery point was modified (status %s).", ev.State)
	case backup.EventBackupPlanCreated, backup.EventBackupPlanModified:
		verb := "created"
		if ev.Type == backup.EventBackupPlanModified {
			verb = "modified"
		}
		name := ""
		if ev.CreatedBy != nil {
			name = ev.CreatedBy.BackupPlanName
		}
		fmt.Fprintf(&b, "A cairn backup plan %q was %s.", name, verb)
	case backup.EventTest:
		fmt.Fprintf(&b, "A test notification from cairn for backup vault %s.", ev.VaultName)
	default:
		fmt.Fprintf(&b, "A cairn event %s.", ev.Type)
	}
	if ev.StatusMessage != "" {
		fmt.Fprintf(&b, " Status message: %s.", strings.TrimSuffix(ev.StatusMessage, "."))
	}
	if ev.RecoveryPointARN != "" {
		fmt.Fprintf(&b, " Recovery point ARN: %s.", ev.RecoveryPointARN)
	}
	if ev.ResourceARN != "" {
		fmt.Fprintf(&b, " Resource ARN : %s.", ev.ResourceARN)
	}
	if ev.JobID != "" {
		label := map[string]string{backup.JobTypeBackup: "BackupJob", backup.JobTypeRestore: "RestoreJob", backup.JobTypeCopy: "CopyJob"}[ev.JobType]
		fmt.Fprintf(&b, " %s ID : %s.", label, ev.JobID)
	}
	if ev.VaultName != "" {
		fmt.Fprintf(&b, " Backup vault : %s.", ev.VaultName)
	}
	fmt.Fprintf(&b, " Event ID : %s. Time : %s.", ev.ID, ev.Time.UTC().Format(time.RFC3339))
	return b.String()
}

// VaultStore is what the SNS resolver reads: the vaults' notification
// configurations (backup.OutboxStore).
type VaultStore interface {
	GetVaultNotifications(ctx context.Context, vault string) (*backup.VaultNotifications, error)
}

// SNSResolver is the Resolver of AWS Backup's vault notifications: an
// event of a vault goes to the vault's SNS topic if the vault's
// BackupVaultEvents name its type (a test event always does).
type SNSResolver struct {
	Store  VaultStore
	Client SNSPublisher
}

// Targets implements Resolver.
func (r *SNSResolver) Targets(ctx context.Context, ev backup.Event) ([]Target, error) {
	if ev.VaultName == "" {
		return nil, nil
	}
	n, err := r.notifications(ctx, ev.VaultName)
	if err != nil {
		return nil, err
	}
	return r.targets(n, ev), nil
}

// notifications is the vault's configuration; nil if it has none.
func (r *SNSResolver) notifications(ctx context.Context, vault string) (*backup.VaultNotifications, error) {
	n, err := r.Store.GetVaultNotifications(ctx, vault)
	if backup.IsNotFound(err) {
		return nil, nil
	}
	return n, err
}

func (r *SNSResolver) targets(n *backup.VaultNotifications, ev backup.Event) []Target {
	if n == nil || ev.Type != backup.EventTest && !n.Wants(ev.Type) {
		return nil
	}
	return []Target{&SNSTarget{Client: r.Client, TopicARN: n.SNSTopicARN}}
}

// Snapshot implements Snapshotter: each vault's configuration is read
// once, when the snapshot first needs it, and kept for the snapshot's
// life (one batch of the sender).
func (r *SNSResolver) Snapshot(context.Context) (Resolver, error) {
	return &snsSnapshot{r: r, vaults: map[string]*backup.VaultNotifications{}}, nil
}

type snsSnapshot struct {
	r      *SNSResolver
	mu     sync.Mutex
	vaults map[string]*backup.VaultNotifications // nil: the vault has none
}

func (s *snsSnapshot) Targets(ctx context.Context, ev backup.Event) ([]Target, error) {
	if ev.VaultName == "" {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.vaults[ev.VaultName]
	if !ok {
		var err error
		if n, err = s.r.notifications(ctx, ev.VaultName); err != nil {
			return nil, err
		}
		s.vaults[ev.VaultName] = n
	}
	return s.r.targets(n, ev), nil
}
