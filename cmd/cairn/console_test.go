package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	bktypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cairn-backup/cairn/internal/clock"
	"github.com/cairn-backup/cairn/internal/ddbjson"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// consoleArtifacts is where the browser tests write their screenshots:
// $CAIRN_ARTIFACTS_DIR/console, default artifacts/console in the checkout
// (CI keeps the folder; the README names it).
func consoleArtifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CAIRN_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join(testbed.RepoRoot(), "artifacts")
	}
	dir = filepath.Join(dir, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts Debian's Chromium headless with a fresh profile and
// returns a chromedp context on one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := testbed.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.WindowSize(1280, 900))
	// A guard against hangs only: the whole browser session of a test.
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 8*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancelTimeout() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return bctx
}

// drive runs chromedp steps and fails the test on error.
func drive(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// A guard against hangs only: no step of these tests waits this long.
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// read runs one chromedp action and returns its value.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// screenshot saves the page as NAME.png in the artifacts folder.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitText polls until the element's text contains want, without
// reloading the page, and fails after limit.
func waitText(t *testing.T, ctx context.Context, sel, want string, limit time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(100 * time.Millisecond) {
		got := read(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s reads %q, never %q", sel, got, want)
		}
	}
}

// TestConsoleInBrowser drives the console with Debian's Chromium against a
// real server and dynalite: pages without a session go to the sign-in page;
// sign-in with the server's keys; the blog's story (a scheduled backup job
// COMPLETED shows its size and resource type in the list and in its
// detail); a restore started from the recovery point's page followed to
// COMPLETED with the item count checked against the new table; a running
// job's progress changing on screen without a reload, then stopped with
// the confirmation step; and forged forms without the CSRF token refused.
// It writes screenshots of the main pages (see consoleArtifacts).
func TestConsoleInBrowser(t *testing.T) {
	dyn := testbed.Dynalite(t)
	shots := consoleArtifacts(t)
	// The server's clock stands a minute before the blog's 05:00 UTC.
	clk := clock.NewFake(time.Date(2026, 3, 2, 4, 59, 0, 0, time.UTC))
	m := testServerWith(t, t.TempDir(), dyn.Endpoint, func(m *Main) {
		m.Clock, m.Config.SchedulerInterval = clk, time.Second
	})
	c, db := backupClient(m), ddbClient(dyn.Endpoint)
	ctx := context.Background()
	base := "http://" + m.Addr + "/console/"
	tableARN := func(name string) string { return "arn:aws:dynamodb:us-east-1:000000000000:table/" + name }

	createTable(t, db, "order_transaction-1", ddbjson.TypeS, false)
	seedRandom(t, db, "order_transaction-1", 300)
	if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(tableARN("order_transaction-1")),
		Tags: []ddbtypes.Tag{{Key: aws.String("backup"), Value: aws.String("daily")}}}); err != nil {
		t.Fatal(err)
	}
	plan, err := c.CreateBackupPlan(ctx, &bk.CreateBackupPlanInput{BackupPlan: &bktypes.BackupPlanInput{
		BackupPlanName: aws.String("BackupPlan_blog"),
		Rules: []bktypes.BackupRuleInput{{RuleName: aws.String("RuleForDailyBackups"), TargetBackupVaultName: aws.String("Default"),
			ScheduleExpression: aws.String("cron(0 5 ? * * *)"), StartWindowMinutes: aws.Int64(60), CompletionWindowMinutes: aws.Int64(120),
			Lifecycle: &bktypes.Lifecycle{MoveToColdStorageAfterDays: aws.Int64(7), DeleteAfterDays: aws.Int64(97)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBackupSelection(ctx, &bk.CreateBackupSelectionInput{BackupPlanId: plan.BackupPlanId,
		BackupSelection: &bktypes.BackupSelection{SelectionName: aws.String("TagBasedBackupSelection"), IamRoleArn: aws.String(role),
			ListOfTags: []bktypes.Condition{{ConditionType: bktypes.ConditionTypeStringequals, ConditionKey: aws.String("backup"), ConditionValue: aws.String("daily")}}}}); err != nil {
		t.Fatal(err)
	}

	b := browser(t)

	// Every page without a session goes to the sign-in page.
	signinField := chromedp.ID("access_key_id")
	for _, p := range []string{"", "backup-jobs", "backup-jobs/x", "restore-jobs", "copy-jobs", "vaults", "vaults/Default",
		"point?vault=Default&arn=x", "plans", "protected", "explain?resource=x", "backup/new", "events?backup=x"} {
		drive(t, b, "open "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(signinField))
		if loc := read(t, b, "location", chromedp.Location()); !strings.HasPrefix(loc, base+"signin?next=") {
			t.Fatalf("/console/%s without a session: at %s, want the sign-in page", p, loc)
		}
	}
	screenshot(t, b, shots, "signin")

	// Wrong keys are refused; the server's keys sign in and come back to
	// the page asked for.
	drive(t, b, "sign in with a wrong secret",
		chromedp.SendKeys(signinField, m.Keys.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secret_access_key"), "not-the-secret"),
		chromedp.Submit(chromedp.ID("secret_access_key")),
		chromedp.WaitVisible(chromedp.CSS(".error")))
	if msg := read(t, b, "error", chromedp.Text(chromedp.CSS(".error"))); !strings.Contains(msg, "not a pair this server knows") {
		t.Fatalf("wrong secret: %q", msg)
	}
	drive(t, b, "sign in",
		chromedp.Navigate(base+"plans"), chromedp.WaitVisible(signinField),
		chromedp.SendKeys(signinField, m.Keys.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secret_access_key"), m.Keys.SecretAccessKey),
		chromedp.Submit(chromedp.ID("secret_access_key")),
		chromedp.WaitVisible(chromedp.CSS("main table")))
	if loc, h1 := read(t, b, "location", chromedp.Location()), read(t, b, "h1", chromedp.Text(chromedp.CSS("h1"))); loc != base+"plans" || h1 != "Backup plans" {
		t.Fatalf("after sign-in: %s %q", loc, h1)
	}
	if rule := read(t, b, "plans", chromedp.Text(chromedp.CSS("main table tbody"))); !strings.Contains(rule, "RuleForDailyBackups: every day at 05:00 UTC into Default") {
		t.Fatalf("plans page: %q", rule)
	}
	drive(t, b, "plan", chromedp.Click(chromedp.CSS("main table tbody a")), chromedp.WaitVisible(chromedp.CSS(".rule")))
	screenshot(t, b, shots, "plan")

	// The blog's story: at 05:00 UTC the scheduler backs the tagged table
	// up, and the job list shows it COMPLETED with size and resource type.
	clk.Set(time.Date(2026, 3, 2, 5, 0, 20, 0, time.UTC))
	var job *bk.DescribeBackupJobOutput
	for deadline := time.Now().Add(3 * time.Minute); job == nil; time.Sleep(200 * time.Millisecond) {
		out, err := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{ByResourceArn: aws.String(tableARN("order_transaction-1"))})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.BackupJobs) == 1 {
			job = waitBackupJob(t, c, aws.ToString(out.BackupJobs[0].BackupJobId))
		}
		if time.Now().After(deadline) {
			t.Fatal("the scheduler never made the 05:00 job")
		}
	}
	if job.State != bktypes.BackupJobStateCompleted {
		t.Fatalf("scheduled job: %s %s", job.State, aws.ToString(job.StatusMessage))
	}
	jobID := aws.ToString(job.BackupJobId)
	wantSize := consoleSize(aws.ToInt64(job.BackupSizeInBytes))
	jobRow := chromedp.CSS(`tr[data-job="backup:` + jobID + `"]`)
	drive(t, b, "backup jobs", chromedp.Navigate(base+"backup-jobs?state=COMPLETED&range=24h"), chromedp.WaitVisible(jobRow))
	row := read(t, b, "job row", chromedp.Text(jobRow))
	for _, want := range []string{jobID[:8], "order_transaction-1", "DynamoDB", "Completed", wantSize, "Default"} {
		if !strings.Contains(row, want) {
			t.Fatalf("job row %q lacks %q", row, want)
		}
	}
	screenshot(t, b, shots, "backup-jobs")
	drive(t, b, "job detail", chromedp.Click(chromedp.CSS(`a[href="/console/backup-jobs/`+jobID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("dl.facts")))
	detail := read(t, b, "job detail", chromedp.Text(chromedp.CSS("dl.facts")))
	for _, want := range []string{"Completed", "Resource type\nDynamoDB", "Backup size\n" + wantSize, "BackupPlan_blog", "RuleForDailyBackups", "every day at 05:00 UTC"} {
		if !strings.Contains(detail, want) {
			t.Fatalf("job detail %q lacks %q", detail, want)
		}
	}
	screenshot(t, b, shots, "backup-job")
	// Times read in the browser's zone, with UTC on hover.
	if _, err := chromedp.Call(b, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	drive(t, b, "job detail in Tokyo", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("dl.facts time")))
	created := read(t, b, "created", chromedp.Text(chromedp.CSS("dl.facts time")))
	hover := read(t, b, "created title", chromedp.AttributeValue(chromedp.CSS("dl.facts time"), "title"))
	if want := aws.ToTime(job.CreationDate).In(time.FixedZone("JST", 9*3600)).Format("3:04 PM"); !strings.Contains(created, want) ||
		hover.Value != aws.ToTime(job.CreationDate).UTC().Format("2006-01-02 15:04:05 UTC") {
		t.Fatalf("creation time in Tokyo: %q (hover %q), want %s there", created, hover.Value, want)
	}
	if _, err := chromedp.Call(b, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{}); err != nil {
		t.Fatal(err)
	}

	// Restore from the point's page; the restore job's page follows the
	// job to COMPLETED and shows the items restored.
	drive(t, b, "recovery point", chromedp.Click(chromedp.CSS(`a[href^="/console/point?"]`)), chromedp.WaitVisible(chromedp.ID("r-table")))
	settings := read(t, b, "point settings", chromedp.Text(chromedp.CSS(`section[aria-labelledby="set-h"]`)))
	if !strings.Contains(settings, "order_transaction-1") || !strings.Contains(settings, "Items\n300") ||
		!strings.Contains(settings, "Key\npk (S, partition)") || !strings.Contains(settings, "backup=daily") ||
		!strings.Contains(settings, "Billing\nPROVISIONED") {
		t.Fatalf("point's saved settings: %q", settings)
	}
	screenshot(t, b, shots, "recovery-point")
	restoreRow := chromedp.CSS(`[data-job^="restore:"]`)
	drive(t, b, "restore", chromedp.SetValue(chromedp.ID("r-table"), "order_transaction-restored"),
		chromedp.Click(chromedp.CSS(`form[action="/console/point/restore"] button`)), chromedp.WaitVisible(restoreRow))
	if loc := read(t, b, "location", chromedp.Location()); !strings.Contains(loc, "/console/restore-jobs/") {
		t.Fatalf("after Restore: at %s", loc)
	}
	drive(t, b, "mark the page", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`window.notReloaded = true`)(ctx, tg)
		return err
	}))
	waitText(t, b, `[data-job^="restore:"] [data-field="stateHtml"]`, "Completed", 3*time.Minute)
	if items := waitText(t, b, `[data-job^="restore:"] [data-field="items"]`, "300", 10*time.Second); items != "300" {
		t.Fatalf("items restored on the page: %q", items)
	}
	if !read(t, b, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Fatal("the restore job's page was reloaded to follow the job")
	}
	if n, _ := tableChecksum(t, db, "order_transaction-restored"); n != 300 {
		t.Fatalf("restored table has %d items, want 300", n)
	}
	screenshot(t, b, shots, "restore-job")

	// A running job's progress changes on the page without a reload.
	createTable(t, db, "slow", ddbjson.TypeS, false)
	seedRandom(t, db, "slow", 2000)
	slow, err := c.StartBackupJob(ctx, &bk.StartBackupJobInput{BackupVaultName: aws.String("Default"),
		ResourceArn: aws.String(tableARN("slow")), IamRoleArn: aws.String(role),
		BackupOptions: map[string]string{"ReadRate": "40", "Segments": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	slowID := aws.ToString(slow.BackupJobId)
	waitState(t, c, slowID, bktypes.BackupJobStateRunning)
	items := chromedp.CSS(`[data-field="items"]`)
	drive(t, b, "running job", chromedp.Navigate(base+"backup-jobs/"+slowID), chromedp.WaitVisible(items),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`window.notReloaded = true`)(ctx, tg)
			return err
		}))
	first := read(t, b, "items", chromedp.Text(items))
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if now := read(t, b, "items", chromedp.Text(items)); now != first && now != "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("items stayed %q on the running job's page", first)
		}
	}
	if !read(t, b, "no reload", chromedp.Evaluate[bool](`window.notReloaded === true`)) {
		t.Fatal("the page was reloaded to show progress")
	}
	screenshot(t, b, shots, "running-job")
	drive(t, b, "dashboard", chromedp.Navigate(base), chromedp.WaitVisible(chromedp.ID("run-h")))
	screenshot(t, b, shots, "dashboard")

	// Stopping it takes a confirmation.
	drive(t, b, "stop", chromedp.Navigate(base+"backup-jobs/"+slowID), chromedp.Click(chromedp.CSS(`a[href$="/stop"]`)),
		chromedp.WaitVisible(chromedp.CSS(".question")))
	if q := read(t, b, "question", chromedp.Text(chromedp.CSS(".question"))); !strings.Contains(q, "Stop backup job "+slowID) {
		t.Fatalf("confirmation: %q", q)
	}
	if j, _ := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(slowID)}); j.State != bktypes.BackupJobStateRunning {
		t.Fatalf("the confirmation page alone changed the job: %s", j.State)
	}
	drive(t, b, "confirm stop", chromedp.Click(chromedp.CSS(`.confirm button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-job="backup:`+slowID+`"]`)))
	waitText(t, b, `[data-field="stateHtml"]`, "Aborted", 2*time.Minute)

	// An on-demand backup: the form, a confirmation, then the job's page,
	// which follows the job to its end.
	drive(t, b, "on-demand backup", chromedp.Navigate(base+"backup/new"), chromedp.WaitVisible(chromedp.ID("b-resource")),
		chromedp.SendKeys(chromedp.ID("b-resource"), "order_transaction-1"),
		chromedp.Submit(chromedp.ID("b-resource")), chromedp.WaitVisible(chromedp.CSS(".question")))
	if q := read(t, b, "question", chromedp.Text(chromedp.CSS(".question"))); q != "Back up table order_transaction-1 into vault Default now?" {
		t.Fatalf("backup confirmation: %q", q)
	}
	drive(t, b, "confirm backup", chromedp.Click(chromedp.CSS(`.confirm button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-job^="backup:"]`)))
	waitText(t, b, `[data-field="stateHtml"]`, "Completed", 2*time.Minute)
	onDemand := strings.TrimPrefix(read(t, b, "location", chromedp.Location()), base+"backup-jobs/")
	if j, err := c.DescribeBackupJob(ctx, &bk.DescribeBackupJobInput{BackupJobId: aws.String(onDemand)}); err != nil ||
		j.State != bktypes.BackupJobStateCompleted || aws.ToString(j.ResourceArn) != tableARN("order_transaction-1") {
		t.Fatalf("on-demand job %s: %v %v", onDemand, j, err)
	}

	// Deleting a recovery point takes a confirmation too.
	pointARN := aws.ToString(job.RecoveryPointArn)
	drive(t, b, "point to delete", chromedp.Navigate(base+"point?vault=Default&arn="+url.QueryEscape(pointARN)),
		chromedp.Click(chromedp.CSS(`a[href^="/console/point/delete?"]`)), chromedp.WaitVisible(chromedp.CSS(".question")))
	if _, err := c.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"), RecoveryPointArn: aws.String(pointARN)}); err != nil {
		t.Fatalf("the confirmation page alone deleted the point: %v", err)
	}
	drive(t, b, "confirm delete", chromedp.Click(chromedp.CSS(`.confirm button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("f-resource")))
	if loc := read(t, b, "location", chromedp.Location()); loc != base+"vaults/Default" {
		t.Fatalf("after deleting a point: at %s", loc)
	}
	var notFound *bktypes.ResourceNotFoundException
	if _, err := c.DescribeRecoveryPoint(ctx, &bk.DescribeRecoveryPointInput{BackupVaultName: aws.String("Default"), RecoveryPointArn: aws.String(pointARN)}); !errors.As(err, &notFound) {
		t.Fatalf("deleted point: %v", err)
	}

	// Forged forms: the browser's own session cookie, but no (or a wrong)
	// CSRF token, is refused and changes nothing.
	got, err := chromedp.Call(b, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
	if err != nil {
		t.Fatal(err)
	}
	var session string
	for _, ck := range got.Cookies {
		if ck.Name == "cairn_console" {
			session = ck.Value
			if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteStrict {
				t.Fatalf("session cookie: HttpOnly %v SameSite %s", ck.HTTPOnly, ck.SameSite)
			}
		}
	}
	if session == "" {
		t.Fatalf("no session cookie among %d", len(got.Cookies))
	}
	before, _ := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{})
	for _, form := range []url.Values{
		{"resource": {"order_transaction-1"}, "vault": {"Default"}},
		{"resource": {"order_transaction-1"}, "vault": {"Default"}, "csrf": {"forged"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+"backup/start", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "cairn_console", Value: session})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged form %v: %d, want 403", form, resp.StatusCode)
		}
	}
	after, _ := c.ListBackupJobs(ctx, &bk.ListBackupJobsInput{})
	if len(after.BackupJobs) != len(before.BackupJobs) {
		t.Fatalf("a forged form started a job: %d jobs, then %d", len(before.BackupJobs), len(after.BackupJobs))
	}

	drive(t, b, "vaults", chromedp.Navigate(base+"vaults/Default"), chromedp.WaitVisible(chromedp.CSS("h1")))
	screenshot(t, b, shots, "vault")

	// Every form field has a label, and on a phone's width the pages need
	// no sideways scrolling.
	const labelled = `[...document.querySelectorAll('input:not([type=hidden]),select')].every(e => e.labels && e.labels.length > 0)`
	const fits = `document.documentElement.scrollWidth <= window.innerWidth`
	for _, p := range []string{"backup-jobs", "restore-jobs", "copy-jobs", "backup/new", "protected", "backup-jobs/" + jobID, "vaults/Default"} {
		drive(t, b, "open "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		if !read(t, b, "labels on "+p, chromedp.Evaluate[bool](labelled)) {
			t.Errorf("/console/%s has a form field without a label", p)
		}
	}
	drive(t, b, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range []string{"", "backup-jobs", "backup-jobs/" + jobID, "vaults/Default", "plans"} {
		drive(t, b, "open "+p+" on a phone", chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("h1")))
		if !read(t, b, "width of "+p, chromedp.Evaluate[bool](fits)) {
			t.Errorf("/console/%s is wider than a phone's screen", p)
		}
	}
	drive(t, b, "phone jobs", chromedp.Navigate(base+"backup-jobs"), chromedp.WaitVisible(chromedp.CSS("h1")))
	screenshot(t, b, shots, "backup-jobs-phone")
	drive(t, b, "laptop", chromedp.ResetViewport())

	// Signing out ends the session: the old cookie opens nothing.
	drive(t, b, "sign out", chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(signinField))
	req, _ := http.NewRequest(http.MethodGet, base+"vaults", nil)
	req.AddCookie(&http.Cookie{Name: "cairn_console", Value: session})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/console/signin") {
		t.Fatalf("old session after sign-out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// consoleSize is the console's size format, written again here so that the
// test checks it rather than reusing it.
func consoleSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 {
			if v < 10 {
				return fmt.Sprintf("%.1f %s", v, u)
			}
			return fmt.Sprintf("%.0f %s", v, u)
		}
	}
	return fmt.Sprintf("%.0f PiB", v/1024)
}
