package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

const policyLong = `Governance policies are AWS Organizations tag policies (TAG_POLICY) and
backup policies (BACKUP_POLICY), written in AWS's own syntax (@@assign,
tag_key, tag_value, enforced_for; plans, rules, selections), so documents
made for AWS apply unchanged. A backup policy creates and keeps up to date
the plans and selections it implies for the server's region; the API refuses
to change or delete them. Deleting the policy removes them; their recovery
points stay under their lifecycle. See docs/governance.md.`

// policyCmd is `cairn policy`: apply, list, show and delete governance
// policies.
func (c *cli) policyCmd() *cobra.Command {
	cmd := c.clientGroup(groupCmd(&cobra.Command{
		Use:   "policy",
		Short: "Apply, list, show and delete governance policies (AWS tag and backup policies)",
		Long:  policyLong,
		Example: `  cairn policy apply -f tag-policy.json --type TAG_POLICY --default-value daily
  cairn policy apply -f backup-policy.json --type BACKUP_POLICY
  cairn policy list
  cairn policy show superwerker-backup`,
	}))
	cmd.AddCommand(c.policyApplyCmd(), c.policyListCmd(), c.policyShowCmd(), c.policyDeleteCmd())
	return cmd
}

var policyNameFromFile = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (c *cli) policyApplyCmd() *cobra.Command {
	var (
		file, typ, name, defaultValue, onViolation string
		exclude                                    []string
		dryRun                                     bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f FILE --type TAG_POLICY|BACKUP_POLICY [--name NAME]",
		Short: "Create or update a policy from a document in AWS Organizations' syntax",
		Long: `Create or update the policy NAME (default: the file's name without its
extension) from FILE, a JSON document in AWS Organizations' syntax. An invalid
document is refused with the path of the element at fault and nothing is
applied. Applying the same document again changes nothing; a changed backup
policy makes a new version of its plans, all in one transaction.

The other flags are cairn's own options of a TAG_POLICY, which AWS's syntax
has no place for; they are stored beside the document: --default-value is
the value governance gives tables that lack the tag, --on-violation says
what to do with a value the policy does not allow (report, the default, or
remediate: reset it to the default value), --exclude takes tables out of
scope by name pattern or by source (source:NAME), --dry-run reports what
would change without changing it.`,
		Example: `  cairn policy apply -f internal/policy/presets/superwerker-tag-policy.json --type TAG_POLICY \
    --name superwerker-backup-tags --default-value daily --exclude 'tmp-*'
  cairn policy apply -f internal/policy/presets/superwerker-backup-policy.json --type BACKUP_POLICY \
    --name superwerker-backup`,
		Args: noArgs,
	}
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "", "the policy document (JSON; required)")
	fs.StringVar(&typ, "type", "", "TAG_POLICY or BACKUP_POLICY (required)")
	fs.StringVar(&name, "name", "", "the policy's name (default: the file's name without extension)")
	fs.StringVar(&defaultValue, "default-value", "", "TAG_POLICY: the value given to tables that lack the tag")
	fs.StringVar(&onViolation, "on-violation", "", "TAG_POLICY: report (default) or remediate a value the policy does not allow")
	fs.StringArrayVar(&exclude, "exclude", nil, "TAG_POLICY: a table name pattern or source:NAME out of scope (repeatable)")
	fs.BoolVar(&dryRun, "dry-run", false, "TAG_POLICY: report what governance would change, change nothing")
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		switch {
		case file == "":
			return usageError(cmd, "-f FILE is required; usage: %s", cmd.UseLine())
		case typ == "":
			return usageError(cmd, "--type TAG_POLICY|BACKUP_POLICY is required; usage: %s", cmd.UseLine())
		}
		typ = strings.ToUpper(typ)
		if typ != "TAG_POLICY" && typ != "BACKUP_POLICY" {
			return usageError(cmd, "--type must be TAG_POLICY or BACKUP_POLICY, not %q", typ)
		}
		body, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		if len(body) > awsapi.MaxPolicyBytes {
			return fmt.Errorf("policy %s is %d bytes; at most %d are accepted", file, len(body), awsapi.MaxPolicyBytes)
		}
		if name == "" {
			base := filepath.Base(file)
			name = policyNameFromFile.ReplaceAllString(strings.TrimSuffix(base, filepath.Ext(base)), "-")
		}
		ext, err := c.connectExt()
		if err != nil {
			return err
		}
		in := awsapi.ApplyPolicyInput{Type: typ, Content: string(body),
			Options: awsapi.PolicyOptions{DefaultValue: defaultValue, OnViolation: onViolation, Exclude: exclude, DryRun: dryRun}}
		var out awsapi.PolicyOutput
		if err := ext.do(ctx, http.MethodPut, "/cairn/policies/"+url.PathEscape(name), nil, in, &out); err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, out)
		}
		c.printPolicyChanges(out.Changes)
		fmt.Fprintf(c.stdout, "applied policy %s (%s): %s\n", name, typ, summarizePolicy(out.Changes))
		return nil
	})
	return cmd
}

func (c *cli) policyListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List governance policies",
		Long:    "List the stored policies by name with their type, options and when they were last applied.",
		Example: "  cairn policy list\n  cairn policy list --output json",
		Args:    noArgs,
		RunE: c.runE(func(ctx context.Context, _ []string) error {
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			all := awsapi.ListPoliciesOutput{Policies: []awsapi.Policy{}}
			q := url.Values{}
			for {
				var out awsapi.ListPoliciesOutput
				if err := ext.do(ctx, http.MethodGet, "/cairn/policies", q, nil, &out); err != nil {
					return err
				}
				all.Policies = append(all.Policies, out.Policies...)
				if out.NextToken == "" {
					break
				}
				q.Set("nextToken", out.NextToken)
			}
			if c.out.json() {
				return printJSON(c.stdout, all)
			}
			t := newFitTable(c.width(), column{head: "NAME", flex: true, min: 12}, column{head: "TYPE"},
				column{head: "UPDATED"}, column{head: "OPTIONS", flex: true, min: 10, text: true})
			for _, p := range all.Policies {
				updated := p.LastUpdateDate.Time()
				t.row(p.PolicyName, p.Type, whenShort(&updated), policyOptions(p))
			}
			return t.write(c.stdout)
		}),
	}
}

// policyOptions says a tag policy's options in a few words.
func policyOptions(p awsapi.Policy) string {
	if p.Type != "TAG_POLICY" {
		return "-"
	}
	o := p.Options
	parts := []string{}
	if o.DefaultValue != "" {
		parts = append(parts, "default="+o.DefaultValue)
	}
	parts = append(parts, orDash(o.OnViolation))
	if len(o.Exclude) > 0 {
		parts = append(parts, "exclude="+strings.Join(o.Exclude, ","))
	}
	if o.DryRun {
		parts = append(parts, "dry-run")
	}
	return strings.Join(parts, " ")
}

func (c *cli) policyShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Aliases: []string{"describe"},
		Short:   "Show a policy: its options, the plans it manages and its document",
		Long:    "Show a stored policy: its type, dates and options, the plans and selections it manages (backup policies) and its document as applied.",
		Example: "  cairn policy show superwerker-backup\n  cairn policy show superwerker-backup-tags --output json",
		Args:    exactArgs(1, "the policy's NAME"),
		RunE: c.runE(func(ctx context.Context, args []string) error {
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			var out awsapi.PolicyOutput
			if err := ext.do(ctx, http.MethodGet, "/cairn/policies/"+url.PathEscape(args[0]), nil, nil, &out); err != nil {
				return err
			}
			if c.out.json() {
				return printJSON(c.stdout, out)
			}
			p := out.Policy
			created, updated := p.CreationDate.Time(), p.LastUpdateDate.Time()
			kv(c.stdout, "Policy", p.PolicyName, "Type", p.Type, "Created", when(&created), "Updated", when(&updated),
				"Options", policyOptions(*p))
			if p.Type == "BACKUP_POLICY" {
				fmt.Fprintln(c.stdout)
				t := newFitTable(c.width(), column{head: "PLAN", flex: true, min: 12}, column{head: "PLAN ID"},
					column{head: "SELECTIONS", flex: true, min: 10, text: true})
				for _, pl := range out.Plans {
					t.row(pl.BackupPlanName, c.shortID(pl.BackupPlanId), strings.Join(pl.Selections, ", "))
				}
				_ = t.write(c.stdout)
			}
			fmt.Fprintln(c.stdout)
			fmt.Fprintln(c.stdout, strings.TrimRight(p.Content, "\n"))
			return nil
		}),
	}
}

func (c *cli) policyDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a policy and the plans and selections it manages",
		Long:    "Delete a stored policy. A backup policy's plans and selections are deleted with it; their recovery points stay, under their lifecycle.",
		Example: "  cairn policy delete superwerker-backup",
		Args:    exactArgs(1, "the policy's NAME"),
		RunE: c.runE(func(ctx context.Context, args []string) error {
			ext, err := c.connectExt()
			if err != nil {
				return err
			}
			var out awsapi.PolicyOutput
			if err := ext.do(ctx, http.MethodDelete, "/cairn/policies/"+url.PathEscape(args[0]), nil, nil, &out); err != nil {
				return err
			}
			if c.out.json() {
				return printJSON(c.stdout, out)
			}
			c.printPolicyChanges(out.Changes)
			fmt.Fprintf(c.stdout, "deleted policy %s\n", args[0])
			return nil
		}),
	}
}

func (c *cli) printPolicyChanges(changes []awsapi.PolicyChange) {
	t := newFitTable(c.width(), column{head: "KIND"}, column{head: "NAME", flex: true, min: 12}, column{head: "ACTION"},
		column{head: "ID"}, column{head: "MESSAGE", flex: true, min: 10, text: true})
	for _, ch := range changes {
		t.row(ch.Kind, ch.Name, ch.Action, orDash(c.shortID(ch.Id)), ch.Message)
	}
	_ = t.write(c.stdout)
}

// summarizePolicy counts the changes to plans and selections by action.
func summarizePolicy(changes []awsapi.PolicyChange) string {
	var sc []awsapi.StackChange
	for _, ch := range changes {
		if ch.Kind != "Policy" {
			sc = append(sc, awsapi.StackChange{Action: ch.Action})
		}
	}
	if len(sc) == 0 {
		for _, ch := range changes {
			if ch.Kind == "Policy" && ch.Action == "NONE" {
				return "unchanged"
			}
		}
		return "stored"
	}
	return summarize(sc)
}
