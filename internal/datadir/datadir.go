// Package datadir guards a cairn data dir so that one process at a time
// works on it.
//
// A data dir holds the catalog (catalog.db), the API key pair and the local
// vaults. Two processes on one data dir break each other's work: a second
// server's crash recovery would end the first one's running jobs and remove
// their partial recovery points. Every command that reads or writes the data
// dir's contents takes its lock first, with Acquire, and releases it when
// done: `cairn server` for its whole life, offline maintenance commands
// (such as rebuilding the catalog) for theirs.
//
// The lock is an advisory, exclusive flock(2) on DIR/cairn.lock. The kernel
// releases it when its holder exits in any way, kill -9 included, so a
// crashed holder never leaves a stale lock. The file itself stays in the
// data dir: it records who holds (or last held) the lock, as JSON, and is
// never removed, because removing a lock file while another process opens it
// would let two processes hold "the" lock. flock works on local file
// systems; keep a data dir off NFS.
package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LockFile is the name of the lock file inside a data dir.
const LockFile = "cairn.lock"

// ErrLocked is matched (errors.Is) by the error Acquire returns when another
// process holds the lock.
var ErrLocked = errors.New("data dir is locked by another process")

// Holder is what the lock file records about the process holding the lock.
type Holder struct {
	PID int `json:"pid"`
	// Command says what the holder is doing, e.g. "cairn server".
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// LockedError is the error of Acquire when another process holds the lock.
// Holder is the zero value when the holder has not recorded itself yet.
type LockedError struct {
	Dir    string
	Holder Holder
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.Holder.PID > 0 {
		cmd := e.Holder.Command
		if cmd == "" {
			cmd = "a process"
		}
		who = fmt.Sprintf("%s (pid %d", cmd, e.Holder.PID)
		if !e.Holder.Since.IsZero() {
			who += ", since " + e.Holder.Since.Format(time.RFC3339)
		}
		who += ")"
	}
	stop := "stop it first"
	if e.Holder.PID > 0 {
		stop = fmt.Sprintf("stop it first (systemctl stop cairn, or kill -TERM %d)", e.Holder.PID)
	}
	return fmt.Sprintf("data dir %s is in use by %s; only one cairn process may use a data dir at a time: %s, or use another data dir",
		e.Dir, who, stop)
}

// Is reports whether target is ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock is a held data dir lock.
type Lock struct {
	dir string
	f   *os.File
}

// Acquire takes the exclusive lock of data dir dir for command (what the
// caller is, e.g. "cairn server"), creating dir (mode 0700) and the lock
// file if they do not exist. It does not wait: if another process holds
// the lock it returns a *LockedError naming that process. Hold the Lock for
// as long as the data dir is used and Release it at the end; a process that
// exits releases it in any case.
func Acquire(dir, command string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	if !ok {
		f.Close()
		return nil, &LockedError{Dir: dir, Holder: readHolder(path)}
	}
	h := Holder{PID: os.Getpid(), Command: command, Since: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(h)
	if err := writeHolder(f, append(b, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("data dir lock %s: record the holder: %w", path, err)
	}
	return &Lock{dir: dir, f: f}, nil
}

// Dir returns the data dir the lock guards.
func (l *Lock) Dir() string { return l.dir }

// Release releases the lock; the lock file stays. Releasing twice does
// nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}

func writeHolder(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return f.Sync()
}

// readHolder reads the lock file's record. A holder records itself just
// after it locks, so an empty file is read again for a moment.
func readHolder(path string) Holder {
	var h Holder
	for range 20 {
		b, err := os.ReadFile(path)
		if err == nil && len(strings.TrimSpace(string(b))) > 0 {
			if json.Unmarshal(b, &h) == nil {
				return h
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h
}
