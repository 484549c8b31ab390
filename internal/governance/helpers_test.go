package governance_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/dynamodb"
	"github.com/cairn-backup/cairn/internal/governance"
	"github.com/cairn-backup/cairn/internal/sqlite"
	"github.com/cairn-backup/cairn/internal/testbed"
)

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

const interval = 10 * time.Second

// env is a worker over one real dynalite, seen through a proxy that can
// play a source that is down, with a catalog in memory and a fake clock.
type env struct {
	t      *testing.T
	clock  *clock.Fake
	cat    *sqlite.Catalog
	ddb    *sdk.Client // the test's own client, straight to dynalite
	client *dynamodb.Client
	fault  *dynamodb.FaultTagger
	proxy  *proxy
	w      *governance.Worker
	cfg    governance.Config
}

func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
		BaseEndpoint: aws.String(endpoint),
	}
}

// newEnv starts dynalite and a worker with rules (superwerker's when none)
// and a plan that backs up superwerker:backup=daily tables every day at
// 05:00 UTC.
func newEnv(t *testing.T, tune func(*governance.Config), rules ...governance.Rule) *env {
	t.Helper()
	dl := testbed.Dynalite(t)
	e := &env{t: t, clock: clock.NewFake(t0)}
	e.proxy = newProxy(t, dl.Endpoint[len("http://"):])
	e.ddb = sdk.NewFromConfig(awsConfig(dl.Endpoint))
	var err error
	e.client, err = dynamodb.New(awsConfig("http://"+e.proxy.addr()), dynamodb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.fault = dynamodb.NewFaultTagger(e.client)
	e.cat, err = sqlite.OpenMemory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cat.Close() })
	addPlan(e.t, e.cat)
	if len(rules) == 0 {
		rules = []governance.Rule{governance.Superwerker()}
	}
	e.cfg = governance.Config{
		Rules:   rules,
		Sources: []governance.Source{{Name: "local", Inventory: e.client, Tagger: e.fault}},
		Backups: e.cat, Store: e.cat, Clock: e.clock, Interval: interval, Rate: -1,
		Retry: dynamodb.RetryPolicy{MaxAttempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }},
	}
	if tune != nil {
		tune(&e.cfg)
	}
	e.w, err = governance.New(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// addPlan stores superwerker's plan and tag selection in cat.
func addPlan(t testing.TB, cat *sqlite.Catalog) {
	ctx := context.Background()
	plan := &backup.BackupPlan{ID: "plan-sw", ARN: "arn:aws:backup:us-east-1:000000000000:backup-plan:plan-sw",
		VersionID: "v1", AccountID: "000000000000", Region: "us-east-1", CreationDate: t0.Add(-48 * time.Hour),
		PlanDocument: backup.PlanDocument{BackupPlanName: "superwerker-backup", Rules: []backup.BackupRule{{
			RuleID: "r1", RuleName: "backup-daily", TargetBackupVaultName: "Default",
			ScheduleExpression: "cron(0 5 ? * * *)", StartWindowMinutes: 60, CompletionWindowMinutes: 120,
			Lifecycle: backup.Lifecycle{DeleteAfterDays: 30}}}}}
	if err := cat.CreateBackupPlan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	sel := &backup.BackupSelection{SelectionID: "sel-sw", BackupPlanID: "plan-sw", CreationDate: t0.Add(-48 * time.Hour),
		SelectionDocument: backup.SelectionDocument{SelectionName: "backup-daily",
			IAMRoleARN: "arn:aws:iam::000000000000:role/service-role/AWSBackupDefaultServiceRole",
			ListOfTags: []backup.TagCondition{{ConditionType: backup.ConditionStringEquals, ConditionKey: "superwerker:backup", ConditionValue: "daily"}}}}
	if err := cat.CreateBackupSelection(ctx, sel); err != nil {
		t.Fatal(err)
	}
}

// pass advances the clock by one interval and runs a pass.
func (e *env) pass() {
	e.t.Helper()
	e.clock.Advance(interval)
	if err := e.w.Pass(e.t.Context()); err != nil {
		e.t.Fatalf("pass: %v", err)
	}
}

func (e *env) createTable(name string, tags map[string]string) string {
	e.t.Helper()
	in := &sdk.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}
	out, err := e.ddb.CreateTable(e.t.Context(), in)
	if err != nil {
		e.t.Fatalf("create table %s: %v", name, err)
	}
	arn := aws.ToString(out.TableDescription.TableArn)
	// dynalite ignores CreateTable's Tags: tag it as a second step.
	for k, v := range tags {
		e.setTag(arn, k, v)
	}
	return arn
}

func (e *env) tags(arn string) map[string]string {
	e.t.Helper()
	out, err := e.ddb.ListTagsOfResource(e.t.Context(), &sdk.ListTagsOfResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("list tags of %s: %v", arn, err)
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func (e *env) setTag(arn, k, v string) {
	e.t.Helper()
	_, err := e.ddb.TagResource(e.t.Context(), &sdk.TagResourceInput{ResourceArn: aws.String(arn),
		Tags: []types.Tag{{Key: aws.String(k), Value: aws.String(v)}}})
	if err != nil {
		e.t.Fatal(err)
	}
}

// verdict returns the table's row of the last pass.
func (e *env) verdict(name string) backup.TableCompliance {
	e.t.Helper()
	r, err := e.w.Compliance(e.t.Context(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(r.Resources) != 1 {
		e.t.Fatalf("compliance of %s: %d rows: %+v", name, len(r.Resources), r.Resources)
	}
	return r.Resources[0]
}

func (e *env) attempts(arn string) []*backup.TagAttempt {
	e.t.Helper()
	as, err := e.cat.ListTagAttempts(e.t.Context(), arn, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Reverse(as) // oldest first
	return as
}

func (e *env) violations(arn string) []*backup.TagViolation {
	e.t.Helper()
	vs, err := e.cat.ListTagViolations(e.t.Context(), backup.TagViolationFilter{ResourceARN: arn})
	if err != nil {
		e.t.Fatal(err)
	}
	return vs
}

func wantTags(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("tags = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("tags = %v, want %v", got, want)
		}
	}
}

// proxy forwards TCP connections to a server until it is set down: then it
// cuts every open connection and resets new ones, as a source that went
// away does.
type proxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	down    bool
	conns   map[net.Conn]bool
	wg      sync.WaitGroup
}

func newProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		ln.Close()
		p.setDown(true)
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset
			}
			c.Close()
			continue
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(c, b) })
		p.wg.Go(func() { p.pipe(b, c) })
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	_ = err
	if errors.Is(err, net.ErrClosed) || err == nil {
		dst.Close()
	}
	src.Close()
	p.mu.Lock()
	delete(p.conns, src)
	delete(p.conns, dst)
	p.mu.Unlock()
}
