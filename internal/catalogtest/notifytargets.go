package catalogtest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
)

// Notification targets: names are unique; ListNotificationTargets orders
// by name; a target comes back as stored, secrets included, with Source
// api; Events nil and empty are the same (all events); a write missing
// Name, Kind, CreationDate or the kind's settings fails with
// ErrMissingParameter and stores nothing; of concurrent creations under
// one name exactly one succeeds.
func testNotificationTargets(t *testing.T, c backup.Catalog) {
	ctx := t.Context()
	at := time.Date(2026, 12, 3, 16, 0, 0, 123, time.UTC)
	hook := &backup.NotificationTarget{Name: "ops-hook", Kind: backup.TargetKindWebhook,
		Events:       []backup.EventType{backup.EventBackupJobFailed, backup.EventBackupJobExpired},
		Webhook:      &backup.WebhookSettings{URL: "https://hooks.example.com/x", Secret: "k", Format: "json", TimeoutSeconds: 5},
		CreationDate: at}
	mail := &backup.NotificationTarget{Name: "dba-mail", Kind: backup.TargetKindEmail, VaultName: "Default",
		Email: &backup.EmailSettings{Host: "smtp.example.com", Port: 587, TLS: "starttls", Username: "u", Password: "p",
			From: "cairn@example.com", To: []string{"a@example.com", "b@example.com"}},
		CreationDate: at.Add(time.Second)}
	for _, tg := range []*backup.NotificationTarget{hook, mail} {
		if err := c.CreateNotificationTarget(ctx, tg); err != nil {
			t.Fatalf("create %s: %v", tg.Name, err)
		}
	}
	// Stored values are copies.
	hook.Webhook.Secret = "changed"
	mail.Email.To[0] = "changed@example.com"

	got, err := c.GetNotificationTarget(ctx, "ops-hook")
	if err != nil {
		t.Fatal(err)
	}
	want := &backup.NotificationTarget{Name: "ops-hook", Kind: backup.TargetKindWebhook,
		Events:  []backup.EventType{backup.EventBackupJobFailed, backup.EventBackupJobExpired},
		Webhook: &backup.WebhookSettings{URL: "https://hooks.example.com/x", Secret: "k", Format: "json", TimeoutSeconds: 5},
		Source:  backup.TargetSourceAPI, CreationDate: at}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v (webhook %+v), want %+v", got, got.Webhook, want)
	}
	gotMail, err := c.GetNotificationTarget(ctx, "dba-mail")
	if err != nil {
		t.Fatal(err)
	}
	if gotMail.Email == nil || gotMail.Email.Password != "p" || gotMail.Email.To[0] != "a@example.com" ||
		gotMail.VaultName != "Default" || len(gotMail.Events) != 0 || gotMail.Webhook != nil {
		t.Errorf("got %+v (email %+v)", gotMail, gotMail.Email)
	}

	dup := *want
	dup.Source = ""
	if err := c.CreateNotificationTarget(ctx, &dup); backup.ErrorCode(err) != backup.ErrAlreadyExists {
		t.Errorf("second create: %v, want ErrAlreadyExists", err)
	}
	for name, bad := range map[string]*backup.NotificationTarget{
		"no name":     {Kind: backup.TargetKindWebhook, Webhook: &backup.WebhookSettings{URL: "u"}, CreationDate: at},
		"no kind":     {Name: "x", Webhook: &backup.WebhookSettings{URL: "u"}, CreationDate: at},
		"no date":     {Name: "x", Kind: backup.TargetKindWebhook, Webhook: &backup.WebhookSettings{URL: "u"}},
		"no settings": {Name: "x", Kind: backup.TargetKindEmail, Webhook: &backup.WebhookSettings{URL: "u"}, CreationDate: at},
	} {
		if err := c.CreateNotificationTarget(ctx, bad); backup.ErrorCode(err) != backup.ErrMissingParameter {
			t.Errorf("%s: %v, want ErrMissingParameter", name, err)
		}
	}

	list, err := c.ListNotificationTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "dba-mail" || list[1].Name != "ops-hook" || list[1].Webhook.Secret != "k" {
		t.Fatalf("list: %+v", list)
	}

	if err := c.DeleteNotificationTarget(ctx, "ops-hook"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteNotificationTarget(ctx, "ops-hook"); !backup.IsNotFound(err) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := c.GetNotificationTarget(ctx, "ops-hook"); !backup.IsNotFound(err) {
		t.Errorf("get deleted: %v, want ErrNotFound", err)
	}

	// Concurrent creations of one name: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.CreateNotificationTarget(ctx, &backup.NotificationTarget{Name: "race", Kind: backup.TargetKindWebhook,
				Webhook: &backup.WebhookSettings{URL: "https://h/x", Secret: "k"}, CreationDate: at})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case backup.ErrorCode(err) != backup.ErrAlreadyExists:
			t.Errorf("concurrent create: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent creations succeeded, want 1", won)
	}
}
