package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/notify"
)

// newSender makes the notification sender of the server: AWS Backup's
// vault notifications to SNS through the SDK's standard configuration
// (AWS_REGION, AWS_ENDPOINT_URL_SNS, profiles, the credential chain), on
// the server's clock, with its metrics on the server's registry (/metrics). Further resolvers
// (cairn's own webhook and email targets) join notify.Resolvers here.
func (m *Main) newSender(ctx context.Context) (*notify.Sender, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("notifications: AWS configuration for SNS: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = m.Config.Region
	}
	var clk clock.Clock = clock.Real{}
	if m.Clock != nil {
		clk = m.Clock
	}
	if c, ok := m.catalog.(interface{ SetClock(func() time.Time) }); ok {
		c.SetClock(clk.Now) // both catalogs have it
	}
	return notify.New(notify.Config{
		Leader: m.leader,
		Outbox: m.catalog, Clock: clk, Logger: m.Logger, Registerer: m.MetricsRegisterer(),
		Resolver: notify.Resolvers{
			&notify.SNSResolver{Store: m.catalog, Client: sns.NewFromConfig(awsCfg)},
			m.Targets, // webhook and email targets (notify_config.go)
		},
	})
}

// stopSender stops the sender's loop before the catalog closes: an attempt
// under way is cancelled and stays due for the next start.
func (m *Main) stopSender() {
	if m.Sender == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m.Sender.Shutdown(ctx)
}

// notifyCmd is the `cairn notify` group.
func (c *cli) notifyCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "notify",
		Short: "Notification targets, a test notification and notification deliveries",
		Long: `Notifications tell people about jobs: a vault's SNS topic (AWS Backup's
put-backup-vault-notifications) gets the events it asks for, and cairn's own
webhook and email targets (cairn notify targets) the events their filters
accept. Every event is
kept in the catalog until it is delivered to each target, retried with
backoff, or marked undeliverable with the reason (see docs/notifications.md).`,
		Example: `  cairn notify targets create ops --webhook https://hooks.example.com/cairn --events BACKUP_JOB_FAILED
  cairn notify test --vault Default
  cairn notify deliveries --status UNDELIVERABLE`,
	}))
	cmd.AddCommand(c.notifyTestCmd(), c.notifyDeliveriesCmd(), c.notifyTargetsCmd())
	return cmd
}

func (c *cli) notifyTestCmd() *cobra.Command {
	var vault string
	cmd := &cobra.Command{
		Use:   "test --vault NAME",
		Short: "Send a test event to every notification target of a vault",
		Long: `Send a test event (CAIRN_NOTIFICATION_TEST) to every notification target of
the vault, whatever events the targets ask for, and show each delivery after
its first attempt. A failed one is retried like any other notification; exit
status 4 if any target did not take it.`,
		Example: "  cairn notify test --vault Default\n  cairn notify test --vault Default --output json",
		Args:    noArgs,
		RunE: c.runE(func(ctx context.Context, _ []string) error {
			if vault == "" {
				return fmt.Errorf("--vault is required: the vault whose targets get the test event")
			}
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			var out awsapi.TestNotificationOutput
			if err := ext.do(ctx, http.MethodPost, "/cairn/notifications/test", url.Values{"backupVaultName": {vault}}, nil, &out); err != nil {
				return err
			}
			if c.out.json() {
				if err := printJSON(c.stdout, out); err != nil {
					return err
				}
			} else if len(out.Deliveries) == 0 {
				_, err := fmt.Fprintf(c.stdout, "Vault %s has no notification targets (aws backup put-backup-vault-notifications; see docs/notifications.md).\n", vault)
				return err
			} else if err := c.printDeliveries(out.Deliveries); err != nil {
				return err
			}
			for _, d := range out.Deliveries {
				if d.Status != "DELIVERED" {
					return &exitError{exitProblems, fmt.Errorf("%s target %s did not take the test event: %s", d.TargetKind, d.TargetName, d.LastError)}
				}
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&vault, "vault", "", "the vault whose targets get the test event")
	return cmd
}

func (c *cli) notifyDeliveriesCmd() *cobra.Command {
	var vault, status, event string
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "List notification deliveries, newest first",
		Long: `List the record of each event's delivery to each target, newest first:
PENDING (waiting for its next attempt, with the last error), DELIVERED, or
UNDELIVERABLE (given up, with the reason).`,
		Example: `  cairn notify deliveries
  cairn notify deliveries --vault Default --status UNDELIVERABLE
  cairn notify deliveries --event 3f2c9a1e-... --output json`,
		Args: noArgs,
		RunE: c.runE(func(ctx context.Context, _ []string) error {
			status = strings.ToUpper(status)
			switch status {
			case "", "PENDING", "DELIVERED", "UNDELIVERABLE":
			default:
				return fmt.Errorf("--status %q: use PENDING, DELIVERED or UNDELIVERABLE", status)
			}
			if limit < 1 {
				return fmt.Errorf("--limit %d: must be at least 1", limit)
			}
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"backupVaultName": vault, "status": status, "eventId": event} {
				if v != "" {
					q.Set(k, v)
				}
			}
			all := awsapi.ListDeliveriesOutput{Deliveries: []awsapi.Delivery{}}
			for len(all.Deliveries) < limit {
				q.Set("maxResults", fmt.Sprint(min(limit-len(all.Deliveries), 1000)))
				var out awsapi.ListDeliveriesOutput
				if err := ext.do(ctx, http.MethodGet, "/cairn/notifications/deliveries", q, nil, &out); err != nil {
					return err
				}
				all.Deliveries = append(all.Deliveries, out.Deliveries...)
				if out.NextToken == "" {
					break
				}
				q.Set("nextToken", out.NextToken)
			}
			if c.out.json() {
				return printJSON(c.stdout, all)
			}
			return c.printDeliveries(all.Deliveries)
		}),
	}
	cmd.Flags().StringVar(&vault, "vault", "", "only events of this vault")
	cmd.Flags().StringVar(&status, "status", "", "only deliveries in this status (PENDING, DELIVERED, UNDELIVERABLE)")
	cmd.Flags().StringVar(&event, "event", "", "only deliveries of this event ID")
	cmd.Flags().IntVar(&limit, "limit", 100, "show at most this many")
	return cmd
}

// printDeliveries prints deliveries as a table that fits the terminal:
// the vault and the times in full only with --wide.
func (c *cli) printDeliveries(ds []awsapi.Delivery) error {
	cols := []column{{head: "EVENT"}, {head: "TYPE", flex: true, min: 12}, {head: "TARGET", flex: true, min: 10},
		{head: "STATUS"}, {head: "TRIES"}, {head: "AGE"}, {head: "ERROR", flex: true, min: 12, text: true}}
	if c.out.wide {
		cols = []column{{head: "EVENT ID"}, {head: "TYPE"}, {head: "VAULT"}, {head: "TARGET"}, {head: "STATUS"},
			{head: "TRIES"}, {head: "LAST ATTEMPT"}, {head: "NEXT ATTEMPT"}, {head: "ERROR", text: true}}
	}
	t := newFitTable(c.width(), cols...)
	now := time.Now()
	for _, d := range ds {
		when := d.CreatedAt.Time()
		if lt := d.LastAttemptAt.Time(); !lt.IsZero() {
			when = lt
		}
		if !c.out.wide {
			t.row(c.shortID(d.EventId), d.EventType, d.TargetKind+" "+shortTarget(d.TargetName), d.Status,
				fmt.Sprint(d.Attempts), age(now.Sub(when)), orDash(d.LastError))
			continue
		}
		next := "-"
		if nt := d.NextAttemptAt.Time(); !nt.IsZero() && d.Status == "PENDING" {
			next = whenShort(&nt)
		}
		t.row(d.EventId, d.EventType, orDash(d.BackupVaultName), d.TargetKind+" "+d.TargetName, d.Status,
			fmt.Sprint(d.Attempts), whenShort(&when), next, orDash(d.LastError))
	}
	return t.write(c.stdout)
}

// shortTarget shortens an ARN to its resource name (a topic's name).
func shortTarget(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name[strings.LastIndex(name, ":")+1:]
	}
	return name
}
