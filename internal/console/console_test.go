package console

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

// fakeService is the part of backup.Service the tests reach; anything
// else panics (the embedded nil interface).
type fakeService struct {
	backup.Service
	mu        sync.Mutex
	jobs      map[string]*backup.BackupJob
	summaries atomic.Int64
	started   atomic.Int64
}

func (f *fakeService) ListJobSummaries(context.Context, backup.JobSummaryInput) ([]backup.JobSummary, backup.AggregationPeriod, string, error) {
	f.summaries.Add(1)
	return nil, backup.PeriodOneDay, "", nil
}
func (f *fakeService) ListBackupPlans(context.Context, backup.BackupPlanFilter) ([]*backup.BackupPlan, string, error) {
	return nil, "", nil
}
func (f *fakeService) ListBackupJobs(context.Context, backup.BackupJobFilter) ([]*backup.BackupJob, string, error) {
	return nil, "", nil
}
func (f *fakeService) ListRestoreJobs(context.Context, backup.RestoreJobFilter) ([]*backup.RestoreJob, string, error) {
	return nil, "", nil
}
func (f *fakeService) ListProtectedResources(context.Context, backup.Page) ([]*backup.ProtectedResource, string, error) {
	return nil, "", nil
}
func (f *fakeService) ListVaults(context.Context, backup.Page) ([]*backup.Vault, string, error) {
	return []*backup.Vault{{Name: "Default"}}, "", nil
}
func (f *fakeService) GetVault(_ context.Context, name string) (*backup.Vault, error) {
	if name != "Default" {
		return nil, backup.NotFound("BackupVault", name)
	}
	return &backup.Vault{Name: "Default"}, nil
}
func (f *fakeService) StartBackupJob(_ context.Context, in backup.StartBackupJobInput) (*backup.BackupJob, error) {
	f.started.Add(1)
	return &backup.BackupJob{ID: "new-job", ResourceARN: in.ResourceARN, VaultName: in.VaultName, State: backup.JobCreated}, nil
}
func (f *fakeService) GetBackupJob(_ context.Context, id string) (*backup.BackupJob, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, backup.NotFound("BackupJob", id)
	}
	c := *j
	return &c, nil
}

const testKey, testSecret = "AKIDTEST", "s3cr3t-key"

func newTest(t *testing.T, adjust func(*Config)) (*httptest.Server, *fakeService, *clock.Fake) {
	t.Helper()
	svc := &fakeService{jobs: map[string]*backup.BackupJob{}}
	clk := clock.NewFake(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	cfg := Config{Service: svc, Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PollInterval: 5 * time.Millisecond,
		Credentials: func(id string) (string, bool) {
			if id == testKey {
				return testSecret, true
			}
			return "", false
		}}
	if adjust != nil {
		adjust(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return srv, svc, clk
}

// client is a browser-like client: a cookie jar, no automatic redirects.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns status, body and the form's CSRF token.
func get(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	tok := ""
	if m := csrfPattern.FindSubmatch(b); m != nil {
		tok = string(m[1])
	}
	return resp.StatusCode, string(b), tok
}

func post(t *testing.T, c *http.Client, u string, form url.Values) *http.Response {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func signIn(t *testing.T, srv *httptest.Server, c *http.Client, id, secret string) *http.Response {
	t.Helper()
	_, _, tok := get(t, c, srv.URL+"/console/signin")
	return post(t, c, srv.URL+"/console/signin", url.Values{"csrf": {tok}, "access_key_id": {id}, "secret_access_key": {secret}, "next": {"/console/vaults"}})
}

func TestSignInSessionsAndExpiry(t *testing.T) {
	srv, _, clk := newTest(t, func(c *Config) { c.IdleTimeout, c.MaxAge = time.Hour, 3*time.Hour })
	c := client(t)

	// Without a session: a redirect to the sign-in page that comes back.
	resp, err := c.Get(srv.URL + "/console/vaults?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin?next=%2Fconsole%2Fvaults%3Fx%3D1" {
		t.Fatalf("no session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Wrong secret, unknown key, empty secret: refused, no session.
	for _, k := range [][2]string{{testKey, "wrong"}, {"AKIDOTHER", testSecret}, {testKey, ""}} {
		if r := signIn(t, srv, c, k[0], k[1]); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("sign-in with %v: %d", k, r.StatusCode)
		}
	}
	// The sign-in form without its token is refused.
	if r := post(t, c, srv.URL+"/console/signin", url.Values{"access_key_id": {testKey}, "secret_access_key": {testSecret}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without its CSRF token: %d", r.StatusCode)
	}
	r := signIn(t, srv, c, testKey, testSecret)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/vaults" {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.Path != "/console/" {
		t.Fatalf("session cookie: %+v", session)
	}
	if st, _, _ := get(t, c, srv.URL+"/console/vaults"); st != http.StatusOK {
		t.Fatalf("with a session: %d", st)
	}
	// Idle for less than IdleTimeout: still signed in; the request renews it.
	clk.Advance(59 * time.Minute)
	if st, _, _ := get(t, c, srv.URL+"/console/vaults"); st != http.StatusOK {
		t.Fatalf("after 59 idle minutes: %d", st)
	}
	// Idle for IdleTimeout: signed out.
	clk.Advance(time.Hour)
	if st, _, _ := get(t, c, srv.URL+"/console/vaults"); st != http.StatusSeeOther {
		t.Fatalf("after an idle hour: %d", st)
	}
	// MaxAge ends a session however busy it is.
	signIn(t, srv, c, testKey, testSecret)
	for i := 0; i < 5; i++ {
		clk.Advance(30 * time.Minute)
		if st, _, _ := get(t, c, srv.URL+"/console/vaults"); st != http.StatusOK {
			t.Fatalf("busy session after %d min: %d", (i+1)*30, st)
		}
	}
	clk.Advance(30 * time.Minute)
	if st, _, _ := get(t, c, srv.URL+"/console/vaults"); st != http.StatusSeeOther {
		t.Fatalf("session older than MaxAge: %d", st)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	srv, _, _ := newTest(t, func(c *Config) { c.Secure = true })
	c := client(t)
	resp, err := c.Get(srv.URL + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if !ck.Secure {
			t.Fatalf("cookie %s is not Secure with Config.Secure", ck.Name)
		}
	}
}

func TestFormsNeedTheSessionsCSRFToken(t *testing.T) {
	srv, svc, _ := newTest(t, nil)
	c := client(t)
	signIn(t, srv, c, testKey, testSecret)
	_, _, tok := get(t, c, srv.URL+"/console/backup/new")
	if tok == "" {
		t.Fatal("the form has no CSRF token")
	}
	form := url.Values{"resource": {"orders"}, "vault": {"Default"}}
	for _, bad := range []string{"", "forged", tok + "x"} {
		f := url.Values{"csrf": {bad}}
		for k, v := range form {
			f[k] = v
		}
		if r := post(t, c, srv.URL+"/console/backup/start", f); r.StatusCode != http.StatusForbidden {
			t.Fatalf("token %q: %d", bad, r.StatusCode)
		}
	}
	// Another session's token is not this one's.
	other := client(t)
	signIn(t, srv, other, testKey, testSecret)
	_, _, otherTok := get(t, other, srv.URL+"/console/backup/new")
	form.Set("csrf", otherTok)
	if r := post(t, c, srv.URL+"/console/backup/start", form); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another session's token: %d", r.StatusCode)
	}
	if n := svc.started.Load(); n != 0 {
		t.Fatalf("%d jobs started by refused forms", n)
	}
	// The confirmation step starts nothing; the confirmed form does.
	form.Set("csrf", tok)
	if r := post(t, c, srv.URL+"/console/backup/confirm", form); r.StatusCode != http.StatusOK || svc.started.Load() != 0 {
		t.Fatalf("confirm: %d, %d started", r.StatusCode, svc.started.Load())
	}
	r := post(t, c, srv.URL+"/console/backup/start", form)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/backup-jobs/new-job" || svc.started.Load() != 1 {
		t.Fatalf("start: %d %s, %d started", r.StatusCode, r.Header.Get("Location"), svc.started.Load())
	}
	// Without a session a POST is refused, not redirected.
	if r := post(t, client(t), srv.URL+"/console/backup/start", form); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST without a session: %d", r.StatusCode)
	}
	// A bad table name is refused before the service sees it.
	form.Set("resource", "x")
	if r := post(t, c, srv.URL+"/console/backup/start", form); r.StatusCode != http.StatusBadRequest || svc.started.Load() != 1 {
		t.Fatalf("bad table: %d", r.StatusCode)
	}
	// Signing out ends the session.
	post(t, c, srv.URL+"/console/signout", url.Values{"csrf": {tok}})
	if st, _, _ := get(t, c, srv.URL+"/console/vaults"); st != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", st)
	}
}

func TestSignInRedirectStaysInTheConsole(t *testing.T) {
	for next, want := range map[string]string{"/console/plans": "/console/plans", "https://evil.example/": "/console/",
		"//evil.example/console/": "/console/", "/console/\\evil": "/console/", "": "/console/"} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// TestDashboardCountsOncePerTTL: the aggregates are computed once per
// DashboardTTL whatever the number of loads.
func TestDashboardCountsOncePerTTL(t *testing.T) {
	srv, svc, clk := newTest(t, func(c *Config) { c.DashboardTTL = 30 * time.Second })
	c := client(t)
	signIn(t, srv, c, testKey, testSecret)
	for i := 0; i < 5; i++ {
		if st, body, _ := get(t, c, srv.URL+"/console/"); st != http.StatusOK {
			t.Fatalf("dashboard: %d %s", st, body)
		}
	}
	if n := svc.summaries.Load(); n != 3 { // one per job kind
		t.Fatalf("5 loads counted %d times, want 3 (once per kind)", n)
	}
	clk.Advance(31 * time.Second)
	get(t, c, srv.URL+"/console/")
	if n := svc.summaries.Load(); n != 6 {
		t.Fatalf("after the TTL: %d counts, want 6", n)
	}
}

// TestEventsStreamProgress: the stream sends a job's progress when it
// changes and ends when the job does.
func TestEventsStreamProgress(t *testing.T) {
	srv, svc, _ := newTest(t, nil)
	svc.jobs["j1"] = &backup.BackupJob{ID: "j1", State: backup.JobRunning, ItemCount: 10, BytesTransferred: 1000}
	c := client(t)
	signIn(t, srv, c, testKey, testSecret)
	resp, err := c.Get(srv.URL + "/console/events?backup=j1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() string {
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return d
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return ""
	}
	if d := next(); !strings.Contains(d, `"items":"10"`) || !strings.Contains(d, `"state":"RUNNING"`) {
		t.Fatalf("first event: %s", d)
	}
	svc.mu.Lock()
	svc.jobs["j1"].ItemCount, svc.jobs["j1"].BytesTransferred = 20, 3000
	svc.mu.Unlock()
	if d := next(); !strings.Contains(d, `"items":"20"`) || !strings.Contains(d, `"bytes":"2.9 KiB"`) {
		t.Fatalf("second event: %s", d)
	}
	svc.mu.Lock()
	svc.jobs["j1"].State, svc.jobs["j1"].BackupSizeInBytes = backup.JobCompleted, 4096
	svc.mu.Unlock()
	if d := next(); !strings.Contains(d, `"state":"COMPLETED"`) || !strings.Contains(d, `"terminal":true`) || !strings.Contains(d, `"bytes":"4.0 KiB"`) {
		t.Fatalf("last event: %s", d)
	}
	if d := next(); d != "{}" {
		t.Fatalf("end event: %s", d)
	}
}

func TestCronWords(t *testing.T) {
	for _, c := range []struct{ expr, tz, want string }{
		{"cron(0 5 ? * * *)", "", "every day at 05:00 UTC"},
		{"", "Etc/UTC", "every day at 05:00 UTC"},
		{"cron(30 22 ? * * *)", "Europe/Berlin", "every day at 22:30 Europe/Berlin"},
		{"cron(0 3 ? * SUN *)", "", "every Sunday at 03:00 UTC"},
		{"cron(0 3 ? * MON-FRI *)", "", "every weekday at 03:00 UTC"},
		{"cron(0 1 1 * ? *)", "", "on day 1 of every month at 01:00 UTC"},
		{"cron(0 1 L * ? *)", "", "on the last day of every month at 01:00 UTC"},
		{"cron(0 * ? * * *)", "", "every hour at minute 0 (UTC)"},
		{"cron(15 */6 ? * * *)", "", "every 6 hours at minute 15 (UTC)"},
		{"cron(0 5 ? 1 * *)", "", "cron(0 5 ? 1 * *)"},
		{"cron(0/5 5 ? * * *)", "", "cron(0/5 5 ? * * *)"},
	} {
		if got := cronWords(c.expr, c.tz); got != c.want {
			t.Errorf("cronWords(%q, %q) = %q, want %q", c.expr, c.tz, got, c.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 10 * 1024: "10 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 1 << 50: "1.0 PiB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSignInThrottle(t *testing.T) {
	srv, _, clk := newTest(t, nil)
	c := client(t)
	for i := 0; i < maxFailures; i++ {
		if r := signIn(t, srv, c, testKey, "wrong"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, r.StatusCode)
		}
	}
	// Now even the right keys wait for the window to pass.
	if r := signIn(t, srv, c, testKey, testSecret); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d", maxFailures, r.StatusCode)
	}
	clk.Advance(failureWindow)
	if r := signIn(t, srv, c, testKey, testSecret); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", r.StatusCode)
	}
}

func TestStaticFiles(t *testing.T) {
	srv, _, _ := newTest(t, nil)
	for path, want := range map[string]int{"/console/static/console.css": 200, "/console/static/console.js": 200,
		"/console/static/": 404, "/console/static/nope.js": 404} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
