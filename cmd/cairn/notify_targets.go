package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

const notifyTargetsLong = `Notification targets are cairn's own channels for backup, restore and copy
job events, beside AWS Backup's SNS vault notifications: a webhook (an HTTP
POST of a JSON event signed with HMAC-SHA256, or a Slack-compatible text
message) or email through an SMTP server. A target is global or limited to
one vault (--vault), and takes every event or only those named (--events,
AWS Backup's BackupVaultEvents names). Targets of the server's config file
(notifications: targets:) are listed too, but change only there. Secrets
(a webhook's key, an SMTP password) are never shown. See docs/notifications.md.`

// notifyTargetsCmd is `cairn notify targets`: create, list, show and
// delete notification targets.
func (c *cli) notifyTargetsCmd() *cobra.Command {
	cmd := groupCmd(&cobra.Command{
		Use:   "targets",
		Short: "Create, list, show and delete webhook and email notification targets",
		Long:  notifyTargetsLong,
		Example: `  cairn notify targets create ops --webhook https://hooks.example.com/cairn \
    --events BACKUP_JOB_FAILED,BACKUP_JOB_EXPIRED
  cairn notify targets create team-chat --webhook "$SLACK_WEBHOOK_URL" --format slack --vault Default
  cairn notify targets create dba --email-to dba@example.com --email-from cairn@example.com \
    --smtp-host smtp.example.com --smtp-user cairn --smtp-password-file ~/.smtp-password
  cairn notify targets list
  cairn notify targets delete ops`,
	})
	cmd.AddCommand(c.notifyTargetsCreateCmd(), c.notifyTargetsListCmd(), c.notifyTargetsShowCmd(), c.notifyTargetsDeleteCmd())
	return cmd
}

// readSecret reads a secret from a file ("-": standard input), without
// its trailing newline.
func readSecret(path string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 64<<10))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("read secret: %s is empty", path)
	}
	return s, nil
}

func (c *cli) notifyTargetsCreateCmd() *cobra.Command {
	var (
		vault, events, hookURL, secretFile, format string
		emailTo                                    []string
		emailFrom, smtpHost, smtpTLS, smtpUser     string
		smtpPasswordFile                           string
		smtpPort                                   int
		timeout                                    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create NAME (--webhook URL | --email-to ADDRESS --email-from ADDRESS --smtp-host HOST) [flags]",
		Short: "Create a webhook or email notification target",
		Long: `Create the target NAME. A webhook target (--webhook URL) POSTs each event;
format json (the default) signs it with HMAC-SHA256: give the key with
--secret-file FILE ("-" reads standard input), or let cairn generate one,
which is printed once. Format slack posts {"text": ...} and needs no key.
An email target sends each event through an SMTP server (--smtp-host;
STARTTLS on port 587 unless --smtp-tls says tls or none); its password comes
from --smtp-password-file. --vault limits the target to one vault's events;
--events to the named ones (AWS Backup's BackupVaultEvents names, comma
separated). The server calls only hosts its operator allows
(notifications.allowed_hosts in its config file). An invalid target is
refused and nothing is stored.`,
		Example: `  cairn notify targets create ops --webhook https://hooks.example.com/cairn \
    --events BACKUP_JOB_FAILED,BACKUP_JOB_EXPIRED
  cairn notify targets create team-chat --webhook "$SLACK_WEBHOOK_URL" --format slack --vault Default
  cairn notify targets create dba --email-to dba@example.com --email-from cairn@example.com \
    --smtp-host smtp.example.com --smtp-user cairn --smtp-password-file ~/.smtp-password`,
		Args: exactArgs(1, "the target's NAME"),
	}
	fs := cmd.Flags()
	fs.StringVar(&vault, "vault", "", "only this vault's events (default: every vault)")
	fs.StringVar(&events, "events", "", "only these events, comma separated (default: all), e.g. BACKUP_JOB_FAILED,BACKUP_JOB_EXPIRED")
	fs.StringVar(&hookURL, "webhook", "", "webhook: the http(s) URL events are POSTed to")
	fs.StringVar(&secretFile, "secret-file", "", "webhook: a file holding the HMAC key (- for stdin; default: generate one)")
	fs.StringVar(&format, "format", "", "webhook: json (default, signed) or slack")
	fs.StringArrayVar(&emailTo, "email-to", nil, "email: a recipient (repeatable)")
	fs.StringVar(&emailFrom, "email-from", "", "email: the sender address")
	fs.StringVar(&smtpHost, "smtp-host", "", "email: the SMTP server's host")
	fs.IntVar(&smtpPort, "smtp-port", 0, "email: the SMTP server's port (default 587; 465 for tls, 25 for none)")
	fs.StringVar(&smtpTLS, "smtp-tls", "", "email: starttls (default), tls or none")
	fs.StringVar(&smtpUser, "smtp-user", "", "email: the SMTP user name")
	fs.StringVar(&smtpPasswordFile, "smtp-password-file", "", "email: a file holding the SMTP password (- for stdin)")
	fs.DurationVar(&timeout, "timeout", 0, "time allowed for one delivery attempt (default 10s webhook, 30s email; at most 5m)")
	cmd.RunE = c.runE(func(ctx context.Context, args []string) error {
		in := awsapi.CreateNotificationTargetInput{BackupVaultName: vault}
		if events != "" {
			for _, e := range strings.Split(events, ",") {
				if e = strings.TrimSpace(e); e != "" {
					in.Events = append(in.Events, strings.ToUpper(e))
				}
			}
		}
		isMail := len(emailTo) > 0 || emailFrom != "" || smtpHost != ""
		var generated string
		switch {
		case hookURL != "" && isMail:
			return usageError(cmd, "give --webhook or the --email-*/--smtp-* flags, not both")
		case hookURL != "":
			in.Webhook = &awsapi.WebhookSettings{Url: hookURL, Format: format, TimeoutSeconds: seconds(timeout)}
			if secretFile != "" {
				s, err := readSecret(secretFile, cmd.InOrStdin())
				if err != nil {
					return err
				}
				in.Webhook.Secret = s
			} else if format == "" || format == "json" {
				b := make([]byte, 32)
				if _, err := rand.Read(b); err != nil {
					return err
				}
				generated = hex.EncodeToString(b)
				in.Webhook.Secret = generated
			}
		case isMail:
			in.Email = &awsapi.EmailSettings{Host: smtpHost, Port: smtpPort, Tls: smtpTLS, Username: smtpUser,
				From: emailFrom, To: emailTo, TimeoutSeconds: seconds(timeout)}
			if smtpPasswordFile != "" {
				s, err := readSecret(smtpPasswordFile, cmd.InOrStdin())
				if err != nil {
					return err
				}
				in.Email.Password = s
			}
		default:
			return usageError(cmd, "give --webhook URL, or --email-to, --email-from and --smtp-host; usage: %s", cmd.UseLine())
		}
		ext, err := c.connectExt()
		if err != nil {
			return err
		}
		var out awsapi.NotificationTargetOutput
		if err := ext.do(ctx, http.MethodPut, "/cairn/notification-targets/"+url.PathEscape(args[0]), nil, in, &out); err != nil {
			return err
		}
		if c.out.json() {
			if generated != "" {
				return printJSON(c.stdout, struct {
					awsapi.NotificationTargetOutput
					GeneratedSecret string `json:"GeneratedSecret"`
				}{out, generated})
			}
			return printJSON(c.stdout, out)
		}
		t := out.NotificationTarget
		fmt.Fprintf(c.stdout, "created %s target %s (%s, %s)\n", t.Kind, t.TargetName, targetScope(t), targetEvents(t))
		if generated != "" {
			fmt.Fprintf(c.stdout, "secret (HMAC-SHA256 key; shown once, give it to the receiver): %s\n", generated)
		}
		return nil
	})
	return cmd
}

func targetScope(t awsapi.NotificationTarget) string {
	if t.BackupVaultName == "" {
		return "all vaults"
	}
	return "vault " + t.BackupVaultName
}

func targetEvents(t awsapi.NotificationTarget) string {
	if len(t.Events) == 0 {
		return "all events"
	}
	return strings.Join(t.Events, ",")
}

// targetDestination says where a target delivers, without secrets.
func targetDestination(t awsapi.NotificationTarget) string {
	switch {
	case t.Webhook != nil:
		return t.Webhook.Url
	case t.Email != nil:
		return strings.Join(t.Email.To, ",") + " via " + t.Email.Host
	}
	return "-"
}

func (c *cli) notifyTargetsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List notification targets",
		Long:    "List the notification targets, of the config file and created through the API, by name: kind, vault, events and destination (without secrets).",
		Example: "  cairn notify targets list\n  cairn notify targets list --output json",
		Args:    noArgs,
		RunE: c.runE(func(ctx context.Context, _ []string) error {
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			var out awsapi.ListNotificationTargetsOutput
			if err := ext.do(ctx, http.MethodGet, "/cairn/notification-targets", nil, nil, &out); err != nil {
				return err
			}
			if c.out.json() {
				return printJSON(c.stdout, out)
			}
			t := newFitTable(c.width(), column{head: "NAME", flex: true, min: 8}, column{head: "KIND"}, column{head: "SOURCE"},
				column{head: "VAULT", flex: true, min: 7}, column{head: "EVENTS", flex: true, min: 10, text: true},
				column{head: "DESTINATION", flex: true, min: 12, text: true})
			for _, tg := range out.NotificationTargets {
				kind := tg.Kind
				if tg.Webhook != nil && tg.Webhook.Format == "slack" {
					kind += "/slack"
				}
				t.row(tg.TargetName, kind, tg.Source, orDash(tg.BackupVaultName), targetEvents(tg), targetDestination(tg))
			}
			return t.write(c.stdout)
		}),
	}
}

func (c *cli) notifyTargetsShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Aliases: []string{"describe"},
		Short:   "Show a notification target",
		Long:    "Show a notification target's settings; secrets are never shown (Secret: set says one is configured).",
		Example: "  cairn notify targets show ops\n  cairn notify targets show ops --output json",
		Args:    exactArgs(1, "the target's NAME"),
		RunE: c.runE(func(ctx context.Context, args []string) error {
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			var out awsapi.NotificationTargetOutput
			if err := ext.do(ctx, http.MethodGet, "/cairn/notification-targets/"+url.PathEscape(args[0]), nil, nil, &out); err != nil {
				return err
			}
			if c.out.json() {
				return printJSON(c.stdout, out)
			}
			t := out.NotificationTarget
			created := t.CreationDate.Time()
			secret := "none"
			if t.HasSecret {
				secret = "set"
			}
			kv(c.stdout, "Target", t.TargetName, "Kind", t.Kind, "Source", t.Source, "Vault", targetScope(t),
				"Events", targetEvents(t), "Created", when(&created))
			if w := t.Webhook; w != nil {
				timeout := "default"
				if w.TimeoutSeconds > 0 {
					timeout = (time.Duration(w.TimeoutSeconds) * time.Second).String()
				}
				kv(c.stdout, "URL", w.Url, "Format", orDash(w.Format), "Secret", secret, "Timeout", timeout)
			}
			if e := t.Email; e != nil {
				port := "default"
				if e.Port > 0 {
					port = fmt.Sprint(e.Port)
				}
				kv(c.stdout, "To", strings.Join(e.To, ", "), "From", e.From, "SMTP host", e.Host, "SMTP port", port,
					"TLS", orDash(e.Tls), "SMTP user", orDash(e.Username), "Password", secret)
			}
			return nil
		}),
	}
}

func (c *cli) notifyTargetsDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a notification target created through the API",
		Long:    "Delete a notification target created through the API; events not yet delivered to it are not sent to it any more. Targets of the config file are removed there.",
		Example: "  cairn notify targets delete ops",
		Args:    exactArgs(1, "the target's NAME"),
		RunE: c.runE(func(ctx context.Context, args []string) error {
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			if err := ext.do(ctx, http.MethodDelete, "/cairn/notification-targets/"+url.PathEscape(args[0]), nil, nil, nil); err != nil {
				return err
			}
			if c.out.json() {
				return printJSON(c.stdout, struct{}{})
			}
			fmt.Fprintf(c.stdout, "deleted target %s\n", args[0])
			return nil
		}),
	}
}
