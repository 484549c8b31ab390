package awsapi

import (
	"github.com/cairn-backup/cairn/internal/backup"
)

// AWS Backup's vault notifications, and cairn's delivery records and test
// notification (/cairn/, exported for cmd/cairn's client):
//
//	PUT    /backup-vaults/{backupVaultName}/notification-configuration  PutBackupVaultNotifications
//	GET    /backup-vaults/{backupVaultName}/notification-configuration  GetBackupVaultNotifications
//	DELETE /backup-vaults/{backupVaultName}/notification-configuration  DeleteBackupVaultNotifications
//	POST   /cairn/notifications/test?backupVaultName=NAME  -> TestNotificationOutput
//	GET    /cairn/notifications/deliveries[?backupVaultName=&eventId=&status=&maxResults=&nextToken=]
//	                                                       -> ListDeliveriesOutput

type putBackupVaultNotificationsInput struct {
	SNSTopicArn       *string   `json:"SNSTopicArn"`
	BackupVaultEvents *[]string `json:"BackupVaultEvents"`
}

type getBackupVaultNotificationsOutput struct {
	BackupVaultName   string   `json:"BackupVaultName"`
	BackupVaultArn    string   `json:"BackupVaultArn"`
	SNSTopicArn       string   `json:"SNSTopicArn"`
	BackupVaultEvents []string `json:"BackupVaultEvents"`
}

func (s *Server) putBackupVaultNotifications(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	var in putBackupVaultNotificationsInput
	if err := q.decode(&in); err != nil {
		return nil, err
	}
	if err := required(member{"SNSTopicArn", in.SNSTopicArn}); err != nil {
		return nil, err
	}
	if in.BackupVaultEvents == nil {
		return nil, missingParam("BackupVaultEvents")
	}
	if err := backup.ValidateVaultNotifications(*in.SNSTopicArn, *in.BackupVaultEvents); err != nil {
		return nil, err
	}
	return nil, s.svc.PutBackupVaultNotifications(q.ctx(), name, *in.SNSTopicArn, *in.BackupVaultEvents)
}

func (s *Server) getBackupVaultNotifications(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	n, err := s.svc.GetBackupVaultNotifications(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	out := getBackupVaultNotificationsOutput{BackupVaultName: n.VaultName, BackupVaultArn: n.VaultARN,
		SNSTopicArn: n.SNSTopicARN, BackupVaultEvents: []string{}}
	for _, e := range n.Events {
		out.BackupVaultEvents = append(out.BackupVaultEvents, string(e))
	}
	return out, nil
}

func (s *Server) deleteBackupVaultNotifications(q *request) (any, error) {
	name := q.path("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	return nil, s.svc.DeleteBackupVaultNotifications(q.ctx(), name)
}

// Delivery is one event's delivery to one target.
type Delivery struct {
	EventId         string `json:"EventId"`
	EventType       string `json:"EventType"`
	EventTime       Time   `json:"EventTime,omitzero"`
	BackupVaultName string `json:"BackupVaultName,omitempty"`
	JobId           string `json:"JobId,omitempty"`
	State           string `json:"State,omitempty"`
	ResourceArn     string `json:"ResourceArn,omitempty"`
	TargetKind      string `json:"TargetKind"`
	TargetName      string `json:"TargetName"`
	// Status is PENDING, DELIVERED or UNDELIVERABLE.
	Status        string `json:"Status"`
	Attempts      int    `json:"Attempts"`
	LastError     string `json:"LastError,omitempty"`
	CreatedAt     Time   `json:"CreatedAt,omitzero"`
	LastAttemptAt Time   `json:"LastAttemptAt,omitzero"`
	NextAttemptAt Time   `json:"NextAttemptAt,omitzero"`
	DeliveredAt   Time   `json:"DeliveredAt,omitzero"`
}

// ListDeliveriesOutput answers GET /cairn/notifications/deliveries.
type ListDeliveriesOutput struct {
	Deliveries []Delivery `json:"Deliveries"`
	NextToken  string     `json:"NextToken,omitempty"`
}

// TestNotificationOutput answers POST /cairn/notifications/test: the
// test event's deliveries after their first attempt.
type TestNotificationOutput struct {
	Deliveries []Delivery `json:"Deliveries"`
}

func toDelivery(d *backup.Delivery) Delivery {
	return Delivery{EventId: d.EventID, EventType: string(d.Event.Type), EventTime: Time(d.Event.Time),
		BackupVaultName: d.Event.VaultName, JobId: d.Event.JobID, State: d.Event.State, ResourceArn: d.Event.ResourceARN,
		TargetKind: d.TargetKind, TargetName: d.TargetName, Status: d.Status, Attempts: d.Attempts, LastError: d.LastError,
		CreatedAt: Time(d.CreatedAt), LastAttemptAt: Time(d.LastAttemptAt), NextAttemptAt: Time(d.NextAttemptAt),
		DeliveredAt: Time(d.DeliveredAt)}
}

func (s *Server) testNotification(q *request) (any, error) {
	name := q.str("backupVaultName")
	if err := checkVaultName(name); err != nil {
		return nil, err
	}
	ds, err := s.svc.TestNotification(q.ctx(), name)
	if err != nil {
		return nil, err
	}
	out := TestNotificationOutput{Deliveries: []Delivery{}}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, toDelivery(d))
	}
	return out, nil
}

func (s *Server) listDeliveries(q *request) (any, error) {
	f := backup.DeliveryFilter{VaultName: q.str("backupVaultName"), EventID: q.str("eventId"), Status: q.str("status")}
	switch f.Status {
	case "", backup.DeliveryPending, backup.DeliveryDelivered, backup.DeliveryUndeliverable:
	default:
		q.fail(invalidParam("status %q is not one of PENDING, DELIVERED, UNDELIVERABLE", f.Status))
	}
	f.Page = q.page()
	if err := q.err(); err != nil {
		return nil, err
	}
	ds, next, err := s.svc.ListDeliveries(q.ctx(), f)
	if err != nil {
		return nil, err
	}
	out := ListDeliveriesOutput{Deliveries: []Delivery{}, NextToken: next}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, toDelivery(d))
	}
	return out, nil
}
