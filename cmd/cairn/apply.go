package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

// extClient calls cairn's own operations under /cairn/ (stacks, explain),
// which the AWS SDK does not know: JSON over HTTP, signed with SigV4 for
// the backup service like every SDK call.
type extClient struct {
	endpoint string
	region   string
	creds    aws.Credentials
	http     *http.Client
}

// connectExt connects the SDK client and the extension client.
func (c *cli) connectExt() (*extClient, error) {
	if err := c.connect(); err != nil {
		return nil, err
	}
	k, err := clientKeys(c.keysDir())
	if err != nil {
		return nil, err
	}
	return &extClient{endpoint: strings.TrimRight(c.endpointURL(), "/"), region: c.region, http: c.httpc,
		creds: aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}}, nil
}

// do sends one request and decodes the JSON answer into out. An error
// answer becomes a smithy.APIError, as the SDK's are.
func (e *extClient) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	u := e.endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("bad server endpoint %q: %v (set CAIRN_ENDPOINT to a URL such as %s)", e.endpoint, err, DefaultEndpoint)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(ctx, e.creds, req, hex.EncodeToString(sum[:]), "backup", e.region, time.Now()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("cannot reach the cairn server at %s (is `cairn server` running? set CAIRN_ENDPOINT)", e.endpoint)
		}
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read the server's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var eb struct{ Code, Message string }
		_ = json.Unmarshal(b, &eb)
		if eb.Code == "" {
			eb.Code = resp.Header.Get("x-amzn-ErrorType")
		}
		if eb.Code == "" {
			eb.Code = fmt.Sprintf("HTTP %d", resp.StatusCode)
			if resp.StatusCode == http.StatusNotFound {
				eb.Message = "the server does not know " + method + " " + path + " (is it an older cairn?)"
			}
		}
		return &smithy.GenericAPIError{Code: eb.Code, Message: eb.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the server's answer to %s %s is not what cairn expects: %v", method, path, err)
	}
	return nil
}

// parameters collects --parameter KEY=VALUE flags (also AWS CLI style
// ParameterKey=KEY,ParameterValue=VALUE).
type parameters map[string]string

func (p parameters) String() string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k+"="+p[k])
	}
	sort.Strings(keys)
	return strings.Join(keys, " ")
}

func (p parameters) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if rest, awsStyle := strings.CutPrefix(s, "ParameterKey="); awsStyle {
		var found bool
		k, v, found = strings.Cut(rest, ",ParameterValue=")
		ok = found
	}
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if _, dup := p[k]; dup {
		return fmt.Errorf("parameter %s is given twice", k)
	}
	p[k] = v
	return nil
}

// Type names the flag's value in help.
func (p parameters) Type() string { return "KEY=VALUE" }

const applyLong = `Create or update a stack from a CloudFormation template (YAML or JSON): the
template's AWS::Backup vaults, plans and selections are created, updated or
deleted so that the stack --stack-name matches it. Other resource types (IAM
roles, ...) are reported as not applicable. --delete removes everything the
stack created, then the stack; --show lists its resources. See
docs/cloudformation.md.

Give exactly one of -f TEMPLATE, --delete or --show.`

const applyExample = `  cairn apply -f cmd/cairn/testdata/blog-dynamodb-backup.yaml --stack-name daily \
    --parameter TagKey=backup --parameter TagValue=daily
  cairn apply --show --stack-name daily
  cairn apply --delete --stack-name daily`

// applyCmd is `cairn apply`: create or update a stack from a
// CloudFormation template, delete a stack, or show one.
func (c *cli) applyCmd() *cobra.Command {
	var (
		file, stack string
		del, show   bool
	)
	params := parameters{}
	cmd := c.clientGroup(&cobra.Command{
		Use:     "apply (-f TEMPLATE | --delete | --show) --stack-name NAME",
		Short:   "Apply, show or delete a CloudFormation template's vaults, plans and selections",
		Long:    applyLong,
		Example: applyExample,
		Args:    noArgs,
	})
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "", "the CloudFormation template (YAML or JSON)")
	fs.StringVar(&stack, "stack-name", "", "the stack's name: it identifies what the template created (required)")
	fs.Var(params, "parameter", "a template parameter as KEY=VALUE or ParameterKey=KEY,ParameterValue=VALUE (repeatable)")
	fs.BoolVar(&del, "delete", false, "delete everything the stack created, then the stack")
	fs.BoolVar(&show, "show", false, "show the stack's resources")
	cmd.RunE = c.runE(func(ctx context.Context, _ []string) error {
		modes := 0
		for _, on := range []bool{file != "", del, show} {
			if on {
				modes++
			}
		}
		switch {
		case stack == "":
			return usageError(cmd, "--stack-name NAME is required; usage: %s", cmd.UseLine())
		case modes != 1:
			return usageError(cmd, "give exactly one of -f TEMPLATE, --delete or --show; usage: %s", cmd.UseLine())
		case len(params) > 0 && file == "":
			return usageError(cmd, "--parameter goes with -f TEMPLATE")
		}
		return c.apply(ctx, file, stack, del, show, params)
	})
	return cmd
}

func (c *cli) apply(ctx context.Context, file, stack string, del, show bool, params parameters) error {
	var body []byte
	if file != "" {
		var err error
		if body, err = os.ReadFile(file); err != nil {
			return fmt.Errorf("read template: %w", err)
		}
		if len(body) > awsapi.MaxTemplateBytes {
			return fmt.Errorf("template %s is %d bytes; at most %d are accepted", file, len(body), awsapi.MaxTemplateBytes)
		}
	}
	ext, err := c.connectExt()
	if err != nil {
		return err
	}
	path := "/cairn/stacks/" + url.PathEscape(stack)
	switch {
	case show:
		var out awsapi.GetStackOutput
		if err := ext.do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
			return err
		}
		if c.out.json() {
			return printJSON(c.stdout, out)
		}
		c.printStack(out.Stack)
		return nil
	case del:
		var out awsapi.StackChangesOutput
		if err := ext.do(ctx, http.MethodDelete, path, nil, nil, &out); err != nil {
			err = explain(err)
			return fmt.Errorf("%w\n(see what is left: cairn apply --show --stack-name %s)", err, stack)
		}
		if c.out.json() {
			return printJSON(c.stdout, out)
		}
		c.printChanges(out.Changes)
		fmt.Fprintf(c.stdout, "deleted stack %s\n", stack)
		return nil
	}
	var out awsapi.StackChangesOutput
	in := awsapi.ApplyStackInput{TemplateBody: string(body), Parameters: params}
	if err := ext.do(ctx, http.MethodPut, path, nil, in, &out); err != nil {
		return err
	}
	if c.out.json() {
		return printJSON(c.stdout, out)
	}
	c.printChanges(out.Changes)
	fmt.Fprintf(c.stdout, "applied stack %s: %s\n", stack, summarize(out.Changes))
	return nil
}

func (c *cli) printChanges(changes []awsapi.StackChange) {
	t := newFitTable(c.width(), column{head: "RESOURCE"}, column{head: "TYPE"},
		column{head: "ACTION"}, column{head: "PHYSICAL ID", flex: true, min: 12}, column{head: "MESSAGE", flex: true, min: 10, text: true})
	for _, ch := range changes {
		t.row(ch.LogicalId, ch.Type, ch.Action, orDash(ch.PhysicalId), ch.Message)
	}
	_ = t.write(c.stdout)
}

func (c *cli) printStack(s *awsapi.Stack) {
	if s == nil {
		fmt.Fprintln(c.stdout, "(no stack)")
		return
	}
	created, updated := s.CreationDate.Time(), s.UpdateDate.Time()
	var ps []string
	for k, v := range s.Parameters {
		ps = append(ps, k+"="+v)
	}
	sort.Strings(ps)
	kv(c.stdout, "Stack", s.StackName, "Created", when(&created), "Updated", when(&updated), "Parameters", strings.Join(ps, ", "))
	fmt.Fprintln(c.stdout)
	t := newFitTable(c.width(), column{head: "RESOURCE"}, column{head: "TYPE"},
		column{head: "STATUS"}, column{head: "PHYSICAL ID", flex: true, min: 12}, column{head: "MESSAGE", flex: true, min: 10, text: true})
	for _, r := range s.Resources {
		t.row(r.LogicalId, r.Type, r.Status, orDash(r.PhysicalId), r.Message)
	}
	_ = t.write(c.stdout)
}

// summarize counts the changes by action: "2 created, 1 updated, ...".
func summarize(changes []awsapi.StackChange) string {
	n := map[string]int{}
	for _, ch := range changes {
		n[ch.Action]++
	}
	var parts []string
	for _, a := range []struct{ action, word string }{{"CREATE", "created"}, {"UPDATE", "updated"}, {"DELETE", "deleted"},
		{"NONE", "unchanged"}, {"SKIP", "not applicable"}} {
		if n[a.action] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[a.action], a.word))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var _ pflag.Value = parameters{}
