package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cairn-backup/cairn/internal/awsapi"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// govProc is a cairn server process with governance on, and its /cairn/
// client.
type govProc struct {
	*proc
	dir string
	ext *extClient
}

func startGovProc(t *testing.T, dir, ddbEndpoint, tagging string) *govProc {
	t.Helper()
	p := startProcWith(t, dir, ddbEndpoint, tagging)
	k, err := readKeys(filepath.Join(dir, credentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	return &govProc{proc: p, dir: dir, ext: &extClient{endpoint: "http://" + p.addr, region: "us-east-1", http: http.DefaultClient,
		creds: aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}}}
}

func (g *govProc) compliance(t *testing.T, table string) awsapi.ComplianceOutput {
	t.Helper()
	var out awsapi.ComplianceOutput
	q := url.Values{}
	if table != "" {
		q.Set("resourceName", table)
	}
	if err := g.ext.do(context.Background(), http.MethodGet, "/cairn/compliance", q, nil, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds, guarding against a hang only.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

// awsDDB runs `aws dynamodb ARGS` against the endpoint.
func awsDDB(t *testing.T, endpoint string, args ...string) map[string]any {
	t.Helper()
	full := append([]string{"dynamodb"}, args...)
	full = append(full, "--endpoint-url", endpoint, "--output", "json")
	cmd := exec.Command(testbed.AWSCLI(t), full...)
	cmd.Env = testbed.Env("AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %s: %v: %s", strings.Join(full, " "), err, errb.String())
	}
	v := map[string]any{}
	if s := strings.TrimSpace(out.String()); s != "" {
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatalf("aws %s: %q: %v", strings.Join(full, " "), s, err)
		}
	}
	return v
}

func cliTags(t *testing.T, endpoint, arn string) map[string]string {
	t.Helper()
	out := awsDDB(t, endpoint, "list-tags-of-resource", "--resource-arn", arn)
	m := map[string]string{}
	for _, x := range jsonList(t, out, "Tags") {
		m[jsonStr(x, "Key")] = jsonStr(x, "Value")
	}
	return m
}

func row(out awsapi.ComplianceOutput, table string) *awsapi.ResourceCompliance {
	for i := range out.Resources {
		if out.Resources[i].ResourceName == table && out.Resources[i].Source == "local" {
			return &out.Resources[i]
		}
	}
	return nil
}

// superwerker's lab on cairn, from the outside: a real cairn server
// process started with governance: superwerker (its tag and backup
// policies), tables made and tagged with the real
// AWS CLI against dynalite. A new table carries superwerker:backup=daily
// within two passes, its other tags intact; weekly is reported; none is
// OPTED_OUT; cairn compliance and cairn explain show the verdict.
func TestGovernanceAWSCLIEndToEnd(t *testing.T) {
	dyn := testbed.Dynalite(t)
	dir := filepath.Join(t.TempDir(), "data")
	g := startGovProc(t, dir, dyn.Endpoint, "governance: superwerker\ntagging:\n  interval: 1s\n")
	waitFor(t, "a first governance pass", func() bool { return g.compliance(t, "").Passes >= 1 })
	awsDDB(t, dyn.Endpoint, "create-table", "--table-name", "orders",
		"--attribute-definitions", "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH",
		"--billing-mode", "PAY_PER_REQUEST")
	created := g.compliance(t, "").Passes
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
	awsDDB(t, dyn.Endpoint, "tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=shop", "Key=env,Value=prod")
	// Two passes that start after the table exists must tag it. The count
	// of passes is read before the check, never from the poll that sees
	// the tag: a poll can lag any number of 1-second passes behind on a
	// loaded machine, which would make the bound a wall-clock limit.
	waitFor(t, "two governance passes after orders was created", func() bool { return g.compliance(t, "").Passes >= created+2 })
	if r := row(g.compliance(t, "orders"), "orders"); r == nil || r.TagValue == nil || *r.TagValue != "daily" {
		t.Fatalf("orders, created before pass %d, is not tagged daily after pass %d: %+v", created+1, created+2, r)
	}
	tags := cliTags(t, dyn.Endpoint, arn)
	if tags["superwerker:backup"] != "daily" || tags["team"] != "shop" || tags["env"] != "prod" || len(tags) != 3 {
		t.Fatalf("aws dynamodb list-tags-of-resource: %v", tags)
	}
	waitFor(t, "orders covered", func() bool { return len(row(g.compliance(t, "orders"), "orders").BackupPlans) > 0 })
	r := row(g.compliance(t, "orders"), "orders")
	if r.ComplianceType != "COMPLIANT" || r.BackupPlans[0] != "superwerker-backup/backup-daily" || r.NextRunTime.Time().IsZero() {
		t.Fatalf("orders: %+v", r)
	}

	// weekly: reported at the next pass, the value left as it is.
	awsDDB(t, dyn.Endpoint, "tag-resource", "--resource-arn", arn, "--tags", "Key=superwerker:backup,Value=weekly")
	waitFor(t, "weekly reported", func() bool {
		r := row(g.compliance(t, "orders"), "orders")
		return r != nil && r.ComplianceType == "NON_COMPLIANT" && r.Violation != nil && r.Violation.Value == "weekly"
	})
	if v := cliTags(t, dyn.Endpoint, arn)["superwerker:backup"]; v != "weekly" {
		t.Fatalf("report mode changed weekly to %q", v)
	}
	// none: OPTED_OUT.
	awsDDB(t, dyn.Endpoint, "tag-resource", "--resource-arn", arn, "--tags", "Key=superwerker:backup,Value=none")
	waitFor(t, "none opted out", func() bool {
		r := row(g.compliance(t, "orders"), "orders")
		return r != nil && r.ComplianceType == "OPTED_OUT"
	})

	out, code := runCairn(t, "compliance", "--endpoint", "http://"+g.addr, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "orders") || !strings.Contains(out, "OPTED_OUT") {
		t.Fatalf("cairn compliance: exit %d:\n%s", code, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("cairn compliance line wider than 100 columns: %q", line)
		}
	}
	out, code = runCairn(t, "explain", "orders", "--endpoint", "http://"+g.addr, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Governance:") || !strings.Contains(out, "OPTED_OUT: tag superwerker:backup=none opts out of backups") {
		t.Fatalf("cairn explain: exit %d:\n%s", code, out)
	}
}

// A kill -9 in the middle of a discovery pass leaves every table either
// tagged with the default or untouched, never anything in between, and
// the next server finishes the job.
func TestGovernanceKillDuringPass(t *testing.T) {
	dyn := testbed.Dynalite(t)
	ddb := sdk.New(sdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(dyn.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	const n = 200
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("kill-%03d", i)
			out, err := ddb.CreateTable(context.Background(), &sdk.CreateTableInput{TableName: aws.String(name),
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
				BillingMode:          types.BillingModePayPerRequest})
			if err == nil {
				_, err = ddb.TagResource(context.Background(), &sdk.TagResourceInput{ResourceArn: out.TableDescription.TableArn,
					Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String(name)}}})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	dir := filepath.Join(t.TempDir(), "data")
	// A low call rate makes the pass long enough to be cut.
	g := startGovProc(t, dir, dyn.Endpoint, "governance: superwerker\ntagging:\n  interval: 1s\n  rate: 40\n")
	g.waitLog(t, "governance tagged a table")
	g.kill(t)

	check := func() (tagged int) {
		for i := range n {
			name := fmt.Sprintf("kill-%03d", i)
			out, err := ddb.ListTagsOfResource(context.Background(), &sdk.ListTagsOfResourceInput{
				ResourceArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/" + name)})
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			for _, tg := range out.Tags {
				m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			if m["owner"] != name || len(m) > 2 || (len(m) == 2 && m["superwerker:backup"] != "daily") {
				t.Fatalf("%s has tags %v", name, m)
			}
			if len(m) == 2 {
				tagged++
			}
		}
		return tagged
	}
	cut := check()
	t.Logf("killed with %d of %d tables tagged", cut, n)
	if cut == n {
		t.Log("the pass ended before the kill; the test proves less than it should")
	}
	b, _ := os.ReadFile(g.log)
	if !bytes.Contains(b, []byte("governance tagged a table")) {
		t.Fatal("no table was tagged before the kill")
	}

	g = startGovProc(t, dir, dyn.Endpoint, "governance: superwerker\ntagging:\n  interval: 1s\n")
	waitFor(t, "every table tagged after the restart", func() bool {
		out := g.compliance(t, "")
		done := 0
		for _, r := range out.Resources {
			if r.Source == "local" && r.TagValue != nil && *r.TagValue == "daily" {
				done++
			}
		}
		return done == n
	})
	if got := check(); got != n {
		t.Fatalf("%d of %d tables tagged after the restart", got, n)
	}
}

// The tagging section: rules of one's own become the
// worker's rules; a bad value is refused with the field at fault named.
func TestConfigTagging(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "cairn.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := loadConfig(write(`tagging:
  interval: 2s
  rules:
    - name: team
      key: backup
      allowed: [none, daily, hourly]
      default: daily
      mode: remediate
      exclude_tables: ["tmp-*"]
`))
	if err != nil {
		t.Fatal(err)
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	rules, err := c.Tagging.rules()
	if err != nil || len(rules) != 1 || rules[0].Key != "backup" ||
		rules[0].Mode != "remediate" || rules[0].EnforcedFor[0] != "dynamodb:table" {
		t.Fatalf("rules %+v, %v", rules, err)
	}
	for want, body := range map[string]string{
		"tagging.interval": "tagging:\n  interval: 10ms\n",
		`tagging.rules[0]: governance rule a: mode remediate needs a default`: "tagging:\n  rules:\n    - {name: a, key: k, mode: remediate}\n",
		`tagging.rules[0]`:                    "tagging:\n  rules:\n    - {name: a, key: k, allowed: [x], default: y}\n",
		`mode "fix": use report or remediate`: "tagging:\n  rules:\n    - {name: a, key: k, default: y, mode: fix}\n",
	} {
		c, err := loadConfig(write(body))
		if err != nil {
			t.Fatal(err)
		}
		c.setDefaults()
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", strings.TrimSpace(body), err, want)
		}
	}
}
