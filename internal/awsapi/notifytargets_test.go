package awsapi

import (
	"context"
	"strings"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
)

// leakyTargets is a NotificationTargetService that wrongly hands secrets
// back: the API must still never show them.
type leakyTargets struct {
	created *backup.NotificationTarget
}

func (l *leakyTargets) CreateNotificationTarget(_ context.Context, t *backup.NotificationTarget) (*backup.TargetView, error) {
	l.created = t
	return &backup.TargetView{Target: t, HasSecret: true}, nil
}

func (l *leakyTargets) GetNotificationTarget(context.Context, string) (*backup.TargetView, error) {
	return &backup.TargetView{Target: l.created, HasSecret: true}, nil
}

func (l *leakyTargets) ListNotificationTargets(context.Context) ([]*backup.TargetView, error) {
	return []*backup.TargetView{{Target: l.created, HasSecret: true}}, nil
}

func (l *leakyTargets) DeleteNotificationTarget(context.Context, string) error { return nil }

func TestNotificationTargetRoutes(t *testing.T) {
	leaky := &leakyTargets{}
	e := newTestEnv(t, &fakeService{NotificationTargetService: leaky}, nil)
	body := `{"BackupVaultName":"Default","Events":["BACKUP_JOB_FAILED"],
		"Webhook":{"Url":"https://h.example.com/x","Secret":"top-secret-key"},
		"Email":{"Host":"smtp.example.com","Password":"top-secret-password","From":"a@example.com","To":["b@example.com"]}}`
	status, _, out := e.do(t, "PUT", "/cairn/notification-targets/ops", []byte(body), true)
	if status != 200 {
		t.Fatalf("create: %d %s", status, out)
	}
	if leaky.created.Name != "ops" || leaky.created.VaultName != "Default" || leaky.created.Webhook.Secret != "top-secret-key" ||
		leaky.created.Email.Password != "top-secret-password" || len(leaky.created.Events) != 1 {
		t.Errorf("the service got %+v", leaky.created)
	}
	for _, path := range []string{"/cairn/notification-targets/ops", "/cairn/notification-targets"} {
		_, _, got := e.do(t, "GET", path, nil, true)
		out = append(out, got...)
	}
	if strings.Contains(string(out), "top-secret") || !strings.Contains(string(out), `"HasSecret":true`) {
		t.Errorf("outputs show a secret or lack HasSecret:\n%s", out)
	}

	for _, tc := range []struct{ method, path, body, errType, says string }{
		{"PUT", "/cairn/notification-targets/bad%20name", `{}`, "InvalidParameterValueException", "TargetName"},
		{"PUT", "/cairn/notification-targets/ops", `{"Events":["NOPE"]}`, "InvalidParameterValueException", `unknown event "NOPE"`},
		{"PUT", "/cairn/notification-targets/ops", `{"Webhook":`, "SerializationException", "JSON"},
		{"GET", "/cairn/notification-targets/a:b", ``, "InvalidParameterValueException", "TargetName"},
		{"DELETE", "/cairn/notification-targets/-x", ``, "InvalidParameterValueException", "TargetName"},
	} {
		status, errType, b := e.do(t, tc.method, tc.path, []byte(tc.body), true)
		if status != 400 || errType != tc.errType || !strings.Contains(errorOf(t, b).Message, tc.says) {
			t.Errorf("%s %s %s: %d %s %s, want 400 %s saying %q", tc.method, tc.path, tc.body, status, errType, b, tc.errType, tc.says)
		}
	}
}
