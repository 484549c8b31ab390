package targets_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/notify/targets"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

var allowAll = []string{"*"}

var clock = func() time.Time { return time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC) }

func catalog(t *testing.T) *sqlite.Catalog {
	t.Helper()
	c, err := sqlite.OpenMemory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, v := range []string{"Default", "offsite"} {
		if err := c.CreateVault(context.Background(), &backup.Vault{Name: v,
			ARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:" + v, CreationDate: clock()}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func hook(name, vault string, events ...backup.EventType) *backup.NotificationTarget {
	return &backup.NotificationTarget{Name: name, VaultName: vault, Events: events,
		Webhook: &backup.WebhookSettings{URL: "https://hooks.example.com/cairn/" + name, Secret: "hmac-" + name}}
}

func TestInvalidTargetsRefusedAndNothingStored(t *testing.T) {
	c := catalog(t)
	m, err := targets.New(c, targets.Options{AllowedHosts: allowAll, Now: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mailT := func(mut func(e *backup.EmailSettings)) *backup.NotificationTarget {
		e := &backup.EmailSettings{Host: "smtp.example.com", From: "cairn@example.com", To: []string{"a@example.com"},
			Username: "u", Password: "smtp-pass-123"}
		mut(e)
		return &backup.NotificationTarget{Name: "mail", Email: e}
	}
	for name, tc := range map[string]struct {
		t    *backup.NotificationTarget
		code backup.Code
		says string
	}{
		"no name":       {&backup.NotificationTarget{Webhook: &backup.WebhookSettings{URL: "https://h/x", Secret: "k"}}, backup.ErrMissingParameter, "name"},
		"bad name":      {hook("no spaces", ""), backup.ErrInvalidParameter, "letters, digits"},
		"bad url":       {&backup.NotificationTarget{Name: "x", Webhook: &backup.WebhookSettings{URL: "ftp://h/x", Secret: "k"}}, backup.ErrInvalidParameter, "http:// or https://"},
		"no url":        {&backup.NotificationTarget{Name: "x", Webhook: &backup.WebhookSettings{Secret: "k"}}, backup.ErrInvalidParameter, "url is required"},
		"no secret":     {&backup.NotificationTarget{Name: "x", Webhook: &backup.WebhookSettings{URL: "https://h/x"}}, backup.ErrInvalidParameter, "secret is required"},
		"bad format":    {&backup.NotificationTarget{Name: "x", Webhook: &backup.WebhookSettings{URL: "https://h/x", Secret: "k", Format: "xml"}}, backup.ErrInvalidParameter, "format"},
		"unknown event": {hook("x", "", "BACKUP_JOB_EXPLODED"), backup.ErrInvalidParameter, "unknown event \"BACKUP_JOB_EXPLODED\""},
		"no settings":   {&backup.NotificationTarget{Name: "x"}, backup.ErrMissingParameter, "webhook or email"},
		"both":          {&backup.NotificationTarget{Name: "x", Kind: "webhook", Webhook: &backup.WebhookSettings{URL: "https://h/x", Secret: "k"}, Email: &backup.EmailSettings{}}, backup.ErrInvalidParameter, "no email"},
		"bad kind":      {&backup.NotificationTarget{Name: "x", Kind: "pager", Webhook: &backup.WebhookSettings{URL: "https://h/x", Secret: "k"}}, backup.ErrInvalidParameter, "kind"},
		"long timeout":  {&backup.NotificationTarget{Name: "x", Webhook: &backup.WebhookSettings{URL: "https://h/x", Secret: "k", TimeoutSeconds: 3600}}, backup.ErrInvalidParameter, "timeout_seconds"},
		"unknown vault": {hook("x", "nowhere"), backup.ErrNotFound, "vault nowhere does not exist"},
		"no to":         {mailT(func(e *backup.EmailSettings) { e.To = nil }), backup.ErrInvalidParameter, "recipient"},
		"bad from":      {mailT(func(e *backup.EmailSettings) { e.From = "nobody" }), backup.ErrInvalidParameter, "from"},
		"no host":       {mailT(func(e *backup.EmailSettings) { e.Host = "" }), backup.ErrInvalidParameter, "host"},
		"plain auth":    {mailT(func(e *backup.EmailSettings) { e.TLS = "none" }), backup.ErrInvalidParameter, "never sent in plain text"},
	} {
		_, err := m.CreateNotificationTarget(context.Background(), tc.t)
		if backup.ErrorCode(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want %s saying %q", name, err, tc.code, tc.says)
		}
		if err != nil && (strings.Contains(err.Error(), "smtp-pass-123") || strings.Contains(err.Error(), "hmac-")) {
			t.Errorf("%s: error shows a secret: %v", name, err)
		}
	}
	if list, err := c.ListNotificationTargets(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("stored after refusals: %v, %v", list, err)
	}
}

func TestConfiguredAndStoredTargetsWithoutSecrets(t *testing.T) {
	c := catalog(t)
	cfg := []*backup.NotificationTarget{hook("from-config", "", backup.EventBackupJobFailed)}
	m, err := targets.New(c, targets.Options{Configured: cfg, AllowedHosts: allowAll, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := m.CreateNotificationTarget(ctx, hook("ops", "Default", backup.EventBackupJobFailed, backup.EventBackupJobExpired, backup.EventBackupJobFailed))
	if err != nil {
		t.Fatal(err)
	}
	if v.Target.Webhook.Secret != "" || !v.HasSecret || v.Target.Webhook.URL != "https://hooks.example.com/..." ||
		v.Target.Kind != "webhook" || v.Target.Source != "api" || len(v.Target.Events) != 2 || !v.Target.CreationDate.Equal(clock()) {
		t.Errorf("created view %+v %+v", v.Target, v.Target.Webhook)
	}
	if _, err := m.CreateNotificationTarget(ctx, hook("from-config", "")); backup.ErrorCode(err) != backup.ErrAlreadyExists {
		t.Errorf("name of a configured target: %v, want ErrAlreadyExists", err)
	}
	if _, err := m.CreateNotificationTarget(ctx, hook("ops", "")); backup.ErrorCode(err) != backup.ErrAlreadyExists {
		t.Errorf("second ops: %v, want ErrAlreadyExists", err)
	}
	list, err := m.ListNotificationTargets(ctx)
	if err != nil || len(list) != 2 || list[0].Target.Name != "from-config" || list[0].Target.Source != "config" || list[1].Target.Name != "ops" {
		t.Fatalf("list %v, %v", list, err)
	}
	for _, v := range list {
		if v.Target.Webhook.Secret != "" || strings.Contains(v.Target.Webhook.URL, "cairn/") {
			t.Errorf("list shows a secret: %+v", v.Target.Webhook)
		}
	}
	g, err := m.GetNotificationTarget(ctx, "from-config")
	if err != nil || g.Target.Webhook.Secret != "" || !g.HasSecret {
		t.Errorf("get configured: %+v, %v", g, err)
	}
	// The store still has the secret, for delivery.
	if s, _ := c.GetNotificationTarget(ctx, "ops"); s.Webhook.Secret != "hmac-ops" {
		t.Errorf("stored secret %q", s.Webhook.Secret)
	}
	if err := m.DeleteNotificationTarget(ctx, "from-config"); backup.ErrorCode(err) != backup.ErrInvalidRequest {
		t.Errorf("delete configured: %v, want ErrInvalidRequest", err)
	}
	if err := m.DeleteNotificationTarget(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GetNotificationTarget(ctx, "ops"); !backup.IsNotFound(err) {
		t.Errorf("get deleted: %v", err)
	}
	if _, err := targets.New(c, targets.Options{Configured: []*backup.NotificationTarget{hook("a", ""), hook("a", "")}}); err == nil ||
		!strings.Contains(err.Error(), "notifications.targets[1]") {
		t.Errorf("duplicate configured names: %v", err)
	}
	if _, err := targets.New(c, targets.Options{Configured: []*backup.NotificationTarget{hook("a", "", "NOPE")}}); err == nil ||
		!strings.Contains(err.Error(), "notifications.targets[0]") {
		t.Errorf("bad configured event: %v", err)
	}
}

func TestResolverGivesGlobalAndVaultTargetsThatAcceptTheEvent(t *testing.T) {
	c := catalog(t)
	m, err := targets.New(c, targets.Options{Configured: []*backup.NotificationTarget{hook("all-failures", "", backup.EventBackupJobFailed, backup.EventBackupJobExpired)}, AllowedHosts: allowAll, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tg := range []*backup.NotificationTarget{
		hook("default-everything", "Default"),
		hook("offsite-failures", "offsite", backup.EventBackupJobFailed, backup.EventCopyJobFailed),
		{Name: "dba", VaultName: "Default", Events: []backup.EventType{backup.EventBackupJobSuccessful},
			Email: &backup.EmailSettings{Host: "smtp.example.com", From: "c@example.com", To: []string{"d@example.com"}}},
	} {
		if _, err := m.CreateNotificationTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	names := func(ev backup.Event) string {
		ts, err := m.Targets(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, t := range ts {
			out = append(out, t.Kind()+":"+t.Name())
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		ev   backup.Event
		want string
	}{
		{backup.Event{Type: backup.EventBackupJobFailed, VaultName: "Default"}, "webhook:all-failures,webhook:default-everything"},
		{backup.Event{Type: backup.EventBackupJobSuccessful, VaultName: "Default"}, "email:dba,webhook:default-everything"},
		{backup.Event{Type: backup.EventBackupJobFailed, VaultName: "offsite"}, "webhook:all-failures,webhook:offsite-failures"},
		{backup.Event{Type: backup.EventBackupJobStarted, VaultName: "offsite"}, ""},
		{backup.Event{Type: backup.EventBackupJobExpired, VaultName: "other"}, "webhook:all-failures"},
		// A copy job from Default into offsite is both vaults' event.
		{backup.Event{Type: backup.EventCopyJobFailed, VaultName: "Default",
			DestinationVaultARN: "arn:aws:backup:us-east-1:000000000000:backup-vault:offsite"}, "webhook:default-everything,webhook:offsite-failures"},
		{backup.Event{Type: backup.EventBackupPlanCreated}, ""},
	} {
		if got := names(tc.ev); got != tc.want {
			t.Errorf("%s in %q: targets %q, want %q", tc.ev.Type, tc.ev.VaultName, got, tc.want)
		}
	}
	// A target deleted through the API is gone from the next resolution.
	if err := m.DeleteNotificationTarget(ctx, "default-everything"); err != nil {
		t.Fatal(err)
	}
	if got := names(backup.Event{Type: backup.EventBackupJobFailed, VaultName: "Default"}); got != "webhook:all-failures" {
		t.Errorf("after delete: %q", got)
	}
}

// The resolved target delivers to a real receiver, signed.
func TestResolvedWebhookDelivers(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := catalog(t)
	m, _ := targets.New(c, targets.Options{AllowedHosts: []string{"127.0.0.1"}, Now: clock})
	ctx := context.Background()
	if _, err := m.CreateNotificationTarget(ctx, &backup.NotificationTarget{Name: "local",
		Webhook: &backup.WebhookSettings{URL: srv.URL + "/hook", Secret: "k"}}); err != nil {
		t.Fatal(err)
	}
	ts, err := m.Targets(ctx, backup.Event{ID: "e1", Type: backup.EventBackupJobFailed, VaultName: "Default"})
	if err != nil || len(ts) != 1 {
		t.Fatalf("%v %v", ts, err)
	}
	if err := ts[0].Deliver(ctx, backup.Event{ID: "e1", Type: backup.EventBackupJobFailed}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.HasPrefix(got[0].Get("Cairn-Signature"), "sha256=") || got[0].Get("Cairn-Event-Id") != "e1" {
		t.Errorf("received %v", got)
	}
}

// Targets created through the API call only the hosts the operator
// allows; the config file's targets any host. A host taken off the list
// stops delivery to the stored targets that use it.
func TestAllowedHosts(t *testing.T) {
	c := catalog(t)
	ctx := context.Background()
	opts := targets.Options{Configured: []*backup.NotificationTarget{hook("cfg", "")},
		AllowedHosts: []string{"*.example.com", "smtp.corp.internal", "10.0.0.7"}, Now: clock}
	m, err := targets.New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	mail := func(name, host string) *backup.NotificationTarget {
		return &backup.NotificationTarget{Name: name, Email: &backup.EmailSettings{Host: host, From: "c@example.com", To: []string{"d@example.com"}}}
	}
	for _, ok := range []*backup.NotificationTarget{hook("sub", ""), mail("corp", "SMTP.corp.internal"),
		{Name: "ip", Webhook: &backup.WebhookSettings{URL: "http://10.0.0.7:8080/x", Secret: "k"}}} {
		if _, err := m.CreateNotificationTarget(ctx, ok); err != nil {
			t.Errorf("%s: %v", ok.Name, err)
		}
	}
	for _, bad := range []*backup.NotificationTarget{
		{Name: "meta", Webhook: &backup.WebhookSettings{URL: "http://169.254.169.254/latest", Secret: "k"}},
		{Name: "apex", Webhook: &backup.WebhookSettings{URL: "https://example.com/x", Secret: "k"}},
		{Name: "lookalike", Webhook: &backup.WebhookSettings{URL: "https://evil-example.com/x", Secret: "k"}},
		mail("other-smtp", "smtp.elsewhere.net"),
	} {
		_, err := m.CreateNotificationTarget(ctx, bad)
		if backup.ErrorCode(err) != backup.ErrInvalidParameter || !strings.Contains(err.Error(), "notifications.allowed_hosts") {
			t.Errorf("%s: %v, want ErrInvalidParameter naming notifications.allowed_hosts", bad.Name, err)
		}
	}
	// Nothing allowed: the API creates nothing.
	none, _ := targets.New(c, targets.Options{Now: clock})
	if _, err := none.CreateNotificationTarget(ctx, hook("x", "")); backup.ErrorCode(err) != backup.ErrInvalidParameter {
		t.Errorf("no allowed hosts: %v", err)
	}
	// The same catalog under a list without example.com: the stored
	// targets there are left out, the config file's stays.
	narrower, _ := targets.New(c, targets.Options{Configured: opts.Configured, AllowedHosts: []string{"10.0.0.7"}, Now: clock})
	ts, err := narrower.Targets(ctx, backup.Event{Type: backup.EventBackupJobFailed, VaultName: "Default"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range ts {
		names = append(names, x.Name())
	}
	if strings.Join(names, ",") != "cfg,ip" {
		t.Errorf("targets %v, want cfg,ip", names)
	}
	for _, bad := range []string{"", "https://x", "a b", "*.", "host:25"} {
		if _, err := targets.New(c, targets.Options{AllowedHosts: []string{bad}}); err == nil {
			t.Errorf("allowed host %q accepted", bad)
		}
	}
}

// cairn notify test's event reaches every target of its vault and every
// global one, whatever their filters; other vaults' targets never.
func TestTestEventIgnoresFilters(t *testing.T) {
	c := catalog(t)
	m, err := targets.New(c, targets.Options{Configured: []*backup.NotificationTarget{
		hook("global-failures", "", backup.EventBackupJobFailed),
		hook("default-restores", "Default", backup.EventRestoreJobFailed),
		hook("offsite-all", "offsite"),
	}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := m.Targets(context.Background(), backup.Event{Type: backup.EventTest, VaultName: "Default"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, x := range ts {
		names = append(names, x.Name())
	}
	if strings.Join(names, ",") != "default-restores,global-failures" {
		t.Errorf("test event's targets %v, want default-restores,global-failures", names)
	}
}
