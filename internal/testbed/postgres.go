package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresInstall says how to install PostgreSQL when it is missing.
const PostgresInstall = "run scripts/testbed.sh (it installs Debian's postgresql package with apt-get), " +
	"or install PostgreSQL so that initdb is in /usr/lib/postgresql/VERSION/bin or on PATH"

// PostgresBin returns the directory of PostgreSQL's server programs
// (initdb, postgres): $CAIRN_POSTGRES_BIN if set, else the newest
// /usr/lib/postgresql/VERSION/bin (where Debian installs them, off PATH),
// else that of initdb on PATH; "" if there is none.
func PostgresBin() string {
	if d := os.Getenv("CAIRN_POSTGRES_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return ""
		}
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(real)
		}
		return filepath.Dir(p)
	}
	return ""
}

// Postgres is a throwaway PostgreSQL cluster of the test bed: initdb'd
// into a temporary directory, serving 127.0.0.1:Port (and a socket in that
// directory), with fsync off. Its superuser is cairn, with no password.
type Postgres struct {
	Port int
	dir  string
	cmd  *exec.Cmd
	dbs  atomic.Int64
	run  func(name string, args ...string) *exec.Cmd
	logf *os.File
}

// PostgresServer starts a PostgreSQL cluster for t and stops it when t
// ends. It runs as the user postgres (or nobody) when the test runs as
// root, since PostgreSQL refuses to run as root.
func PostgresServer(t testing.TB) *Postgres {
	t.Helper()
	bin := PostgresBin()
	if bin == "" {
		Missing(t, "PostgreSQL (initdb)", PostgresInstall)
	}
	cred, uid, gid := postgresUser(t)
	dir, err := os.MkdirTemp("", "cairn-testbed-postgres-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("postgres: chown %s: %v", dir, err)
		}
	}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		// SIGQUIT: PostgreSQL's immediate shutdown, which also ends its
		// children.
		dieWithParent(cmd.SysProcAttr, syscall.SIGQUIT)
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-A", "trust", "-U", "cairn", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("postgres: initdb: %v\n%s", err, out)
	}
	p := &Postgres{Port: FreePort(t), dir: dir, run: run}
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		t.Fatal(err)
	}
	if cred != nil {
		_ = logf.Chown(uid, gid)
	}
	p.logf = logf
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(logf.Name())
			if len(out) > 4096 {
				out = out[len(out)-4096:]
			}
			t.Logf("postgres output, last 4 KB:\n%s", out)
		}
		logf.Close()
	})
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs the server on the cluster's directory and port and waits
// until it accepts connections.
func (p *Postgres) start() error {
	p.cmd = p.run("postgres", "-D", filepath.Join(p.dir, "data"), "-p", strconv.Itoa(p.Port), "-k", p.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=300")
	p.cmd.Stdout, p.cmd.Stderr = p.logf, p.logf
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("postgres: start: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, p.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(p.logf.Name())
			return fmt.Errorf("postgres did not become ready on port %d: %v; its output:\n%s", p.Port, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Restart stops the server (StopFast: every session ends, every advisory
// lock is freed, commits are kept) and starts it again on the same port
// and data; it returns once the server accepts connections. Between the
// two, connections are refused.
func (p *Postgres) Restart(t testing.TB) {
	t.Helper()
	p.StopFast()
	p.Start(t)
}

// Start starts a server stopped by Stop again, on the same port and data,
// and returns once it accepts connections.
func (p *Postgres) Start(t testing.TB) {
	t.Helper()
	if p.cmd != nil {
		t.Fatal("postgres: Start of a server that runs")
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
}

// postgresUser returns the credentials to run PostgreSQL with: nil when
// the test does not run as root, else those of the user postgres (Debian's
// package creates it) or nobody.
func postgresUser(t testing.TB) (*syscall.Credential, int, int) {
	if os.Geteuid() != 0 {
		return nil, 0, 0
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid, gid
	}
	t.Fatalf("postgres: running as root and there is no user postgres or nobody to run PostgreSQL as")
	return nil, 0, 0
}

// URL returns the connection URL of database db.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://cairn@127.0.0.1:%d/%s?sslmode=disable", p.Port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (p *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("cairn_test_%d", p.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		t.Fatalf("postgres: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgres: create database %s: %v", name, err)
	}
	return p.URL(name)
}

// Stop shuts the cluster down at once (SIGQUIT: PostgreSQL's immediate
// shutdown) and waits for it. With the test bed's synchronous_commit=off
// the last commits may be lost: use StopFast before a Start.
func (p *Postgres) Stop() { p.stop(syscall.SIGQUIT) }

// StopFast shuts the cluster down as an operator's restart does (SIGINT:
// PostgreSQL's fast shutdown): every session is ended at once, every
// advisory lock freed, and what was committed is kept.
func (p *Postgres) StopFast() { p.stop(syscall.SIGINT) }

func (p *Postgres) stop(sig syscall.Signal) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

// PostgresURL starts a PostgreSQL cluster for t and returns the URL of an
// empty database in it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return PostgresServer(t).NewDatabase(t)
}
