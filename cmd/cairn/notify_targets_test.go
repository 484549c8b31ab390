package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// syncBuffer is a bytes.Buffer the server's logger may write to from
// several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cairn notify targets create|list|show|delete against a server with a
// target in its config file: secrets go in and never come out (not in
// list, show, JSON or the server's log); invalid targets are refused
// with a message that says what to fix, and change nothing.
func TestNotifyTargetsCLI(t *testing.T) {
	t.Setenv("CAIRN_ACCESS_KEY_ID", "")
	t.Setenv("CAIRN_SECRET_ACCESS_KEY", "")
	dyn := testbed.Dynalite(t)
	logs := &syncBuffer{}
	const (
		configSecret = "config-hmac-key-0001"
		apiSecret    = "api-hmac-key-0002"
		smtpPassword = "smtp-password-0003"
		slackPath    = "T0000/B0000/slacktoken0004"
	)
	m := testServerWith(t, t.TempDir(), dyn.Endpoint, func(m *Main) {
		m.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		m.Config.Notifications.AllowedHosts = []string{"*.example.com", "hooks.slack.com"}
		m.Config.Notifications.Targets = []TargetConfig{{Name: "from-config", Events: []string{"BACKUP_JOB_FAILED"},
			Webhook: &WebhookTargetConfig{URL: "https://hooks.example.com/config", Secret: configSecret}}}
	})
	cliEnv(t, m)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	passwordFile := filepath.Join(dir, "password")
	if err := os.WriteFile(secretFile, []byte(apiSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(passwordFile, []byte(smtpPassword), 0o600); err != nil {
		t.Fatal(err)
	}

	out, _ := cairnOK(t, "notify", "targets", "create", "ops", "--webhook", "https://hooks.example.com/cairn/ops",
		"--secret-file", secretFile, "--events", "backup_job_failed,BACKUP_JOB_EXPIRED", "--vault", "Default")
	if !strings.Contains(out, "created webhook target ops (vault Default, BACKUP_JOB_FAILED,BACKUP_JOB_EXPIRED)") {
		t.Errorf("create ops: %q", out)
	}
	out, _ = cairnOK(t, "notify", "targets", "create", "generated", "--webhook", "https://hooks.example.com/gen")
	generated := ""
	if i := strings.Index(out, "give it to the receiver): "); i >= 0 {
		generated = strings.TrimSpace(out[i+len("give it to the receiver): "):])
	}
	if len(generated) != 64 {
		t.Fatalf("generated secret not shown once: %q", out)
	}
	cairnOK(t, "notify", "targets", "create", "chat", "--webhook", "https://hooks.slack.com/services/"+slackPath, "--format", "slack")
	cairnOK(t, "notify", "targets", "create", "dba", "--email-to", "dba@example.com", "--email-to", "oncall@example.com",
		"--email-from", "cairn@example.com", "--smtp-host", "smtp.example.com", "--smtp-user", "cairn",
		"--smtp-password-file", passwordFile, "--events", "BACKUP_JOB_FAILED")

	before, _ := cairnOK(t, "notify", "targets", "list", "--output", "json")
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"bad-url", "--webhook", "ftp://example.com/x"}, 1, []string{"InvalidParameterValueException", "http:// or https://"}},
		{[]string{"bad-event", "--webhook", "https://h.example.com/x", "--events", "BACKUP_JOB_EXPLODED"}, 1,
			[]string{"unknown event \"BACKUP_JOB_EXPLODED\"", "BACKUP_JOB_FAILED"}},
		{[]string{"no-to", "--email-from", "cairn@example.com", "--smtp-host", "smtp.example.com"}, 1, []string{"recipient"}},
		{[]string{"no-vault", "--webhook", "https://h.example.com/x", "--vault", "nowhere"}, 1, []string{"vault nowhere does not exist"}},
		{[]string{"ops", "--webhook", "https://h.example.com/x"}, 1, []string{"AlreadyExistsException"}},
		{[]string{"from-config", "--webhook", "https://h.example.com/x"}, 1, []string{"config file"}},
		{[]string{"bad name", "--webhook", "https://h.example.com/x"}, 1, []string{"letters, digits"}},
		{[]string{"not-allowed", "--webhook", "http://169.254.169.254/latest/meta-data"}, 1,
			[]string{"host 169.254.169.254 is not one", "notifications.allowed_hosts"}},
		{[]string{"neither"}, 2, []string{"--webhook URL"}},
		{[]string{"both", "--webhook", "https://h.example.com/x", "--smtp-host", "h"}, 2, []string{"not both"}},
	} {
		cairnFails(t, tc.code, tc.want, append([]string{"notify", "targets", "create"}, tc.args...)...)
	}
	after, _ := cairnOK(t, "notify", "targets", "list", "--output", "json")
	if before != after {
		t.Errorf("refused creations changed the targets:\n%s\n%s", before, after)
	}

	var list awsapi.ListNotificationTargetsOutput
	if err := json.Unmarshal([]byte(after), &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range list.NotificationTargets {
		names = append(names, tg.TargetName+":"+tg.Source)
	}
	if strings.Join(names, ",") != "chat:api,dba:api,from-config:config,generated:api,ops:api" {
		t.Errorf("targets %v", names)
	}
	table, _ := cairnOK(t, "notify", "targets", "list")
	for _, line := range strings.Split(strings.TrimRight(table, "\n"), "\n") {
		if len([]rune(line)) > 100 {
			t.Errorf("line wider than 100 columns: %q", line)
		}
	}
	for _, want := range []string{"NAME", "ops", "webhook", "Default", "BACKUP_JOB_FAILED", "dba", "email", "from-config", "config"} {
		if !strings.Contains(table, want) {
			t.Errorf("list lacks %q:\n%s", want, table)
		}
	}
	show, _ := cairnOK(t, "notify", "targets", "show", "dba")
	if kvValue(t, show, "Password") != "set" || kvValue(t, show, "To") != "dba@example.com, oncall@example.com" ||
		kvValue(t, show, "SMTP host") != "smtp.example.com" {
		t.Errorf("show dba:\n%s", show)
	}
	showJSON, _ := cairnOK(t, "notify", "targets", "show", "ops", "--output", "json")
	var one awsapi.NotificationTargetOutput
	if err := json.Unmarshal([]byte(showJSON), &one); err != nil {
		t.Fatal(err)
	}
	if !one.NotificationTarget.HasSecret || one.NotificationTarget.Webhook.Url != "https://hooks.example.com/..." ||
		strings.Contains(showJSON, `"Secret"`) {
		t.Errorf("show ops --output json:\n%s", showJSON)
	}

	cairnFails(t, 1, []string{"config file", "remove it there"}, "notify", "targets", "delete", "from-config")
	cairnOK(t, "notify", "targets", "delete", "generated")
	cairnFails(t, 1, []string{"not found"}, "notify", "targets", "show", "generated")

	everything := after + table + show + showJSON + logs.String()
	for _, secret := range []string{configSecret, apiSecret, smtpPassword, generated, slackPath} {
		if strings.Contains(everything, secret) {
			t.Errorf("a secret (%.8s...) is shown in an output or the server's log", secret)
		}
	}
}

// A config file's notifications: key is read, and a bad target in it
// stops the server before it starts, naming the target at fault.
func TestNotificationsConfigKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cairn.yaml")
	good := `notifications:
  allowed_hosts: ["*.example.com", 10.0.0.7]
  targets:
    - name: failures
      events: [BACKUP_JOB_FAILED, BACKUP_JOB_EXPIRED]
      webhook:
        url: https://hooks.example.com/cairn
        secret: k3y
        timeout: 5s
    - name: dba
      vault: Default
      email:
        host: smtp.example.com
        port: 465
        tls: tls
        username: cairn
        password: pw
        from: cairn@example.com
        to: [dba@example.com]
`
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ts := c.Notifications.targets()
	if len(c.Notifications.AllowedHosts) != 2 {
		t.Errorf("allowed_hosts %v", c.Notifications.AllowedHosts)
	}
	if len(ts) != 2 || ts[0].Webhook.TimeoutSeconds != 5 || ts[1].Email.Port != 465 || ts[1].VaultName != "Default" {
		t.Errorf("targets %+v", ts)
	}
	for bad, want := range map[string]string{
		strings.Replace(good, "BACKUP_JOB_EXPIRED", "BACKUP_JOB_EXPLODED", 1): `notifications.targets[0]: target failures: unknown event "BACKUP_JOB_EXPLODED"`,
		strings.Replace(good, "https://hooks", "hooks", 1):                    "notifications.targets[0]: webhook failures: url",
		strings.Replace(good, "to: [dba@example.com]", "to: []", 1):           "notifications.targets[1]: email dba: to is required",
		strings.Replace(good, "name: dba", "name: failures", 1):               `notifications.targets[1]: name "failures" is used twice`,
		strings.Replace(good, "        secret: k3y\n", "", 1):                 "secret is required",
		strings.Replace(good, "10.0.0.7", "http://10.0.0.7/", 1):              "notifications.allowed_hosts[1]",
	} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfig(path)
		if err == nil {
			c.setDefaults()
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config error %v, want one saying %q", err, want)
		}
		if err != nil && (strings.Contains(err.Error(), "k3y") || strings.Contains(err.Error(), "pw\"")) {
			t.Errorf("config error shows a secret: %v", err)
		}
	}
}
