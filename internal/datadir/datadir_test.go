package datadir_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cairn-backup/cairn/internal/datadir"
)

func TestAcquireTwiceInOneProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	l, err := datadir.Acquire(dir, "cairn server")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data dir not created 0700: %v %v", fi, err)
	}
	_, err = datadir.Acquire(dir, "cairn catalog rebuild")
	var le *datadir.LockedError
	if !errors.As(err, &le) || !errors.Is(err, datadir.ErrLocked) {
		t.Fatalf("second Acquire: %v, want a LockedError", err)
	}
	if le.Holder.PID != os.Getpid() || le.Holder.Command != "cairn server" {
		t.Fatalf("holder %+v, want pid %d and cairn server", le.Holder, os.Getpid())
	}
	for _, want := range []string{dir, fmt.Sprintf("pid %d", os.Getpid()), "cairn server", "kill -TERM"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	l2, err := datadir.Acquire(dir, "cairn catalog rebuild")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	defer l2.Release()
}

// TestMain runs the package's tests, or, in the child process that
// TestOtherProcess starts (DATADIR_TEST_HOLD set), holds the lock on that
// directory until its stdin closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv("DATADIR_TEST_HOLD"); dir != "" {
		holdLock(dir)
	}
	os.Exit(m.Run())
}

func holdLock(dir string) {
	l, err := datadir.Acquire(dir, "helper")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	l.Release()
	os.Exit(0)
}

// TestOtherProcess checks the lock against a second process, and that a
// holder killed with SIGKILL leaves no stale lock.
func TestOtherProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DATADIR_TEST_HOLD="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper: %q %v", line, err)
	}
	_, err = datadir.Acquire(dir, "cairn server")
	var le *datadir.LockedError
	if !errors.As(err, &le) || le.Holder.PID != cmd.Process.Pid || le.Holder.Command != "helper" {
		t.Fatalf("Acquire while another process holds the lock: %v (holder %+v), want pid %d", err, le, cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	l, err := datadir.Acquire(dir, "cairn server")
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

func ExampleAcquire() {
	dir, _ := os.MkdirTemp("", "cairn-data-")
	defer os.RemoveAll(dir)
	lock, err := datadir.Acquire(dir, "cairn catalog rebuild")
	if errors.Is(err, datadir.ErrLocked) {
		fmt.Println(err) // names the holder's pid and what to do
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lock.Release()
	// ... work on the catalog and the vaults of dir ...
	fmt.Println("locked", filepath.Base(lock.Dir()) != "")
	// Output: locked true
}
