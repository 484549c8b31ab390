package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
)

// proc is a server the harness started: dynalite or cairn. Stop ends it;
// every started proc is also stopped by stopAll when the harness exits.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	addr string // 127.0.0.1:PORT
	// noSignals: Stop kills the process without asking (a server under
	// callgrind, which cannot take signals).
	noSignals bool
}

var running = map[*proc]bool{}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startProc(name, logPath string, cmd *exec.Cmd) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logf}
	running[p] = true
	return p, nil
}

// Stop asks the process to end (SIGTERM), kills it after 15 s, and waits.
func (p *proc) Stop() {
	if p == nil || !running[p] {
		return
	}
	delete(running, p)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	if p.noSignals {
		_ = p.cmd.Process.Kill()
	} else {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.log.Close()
}

func stopAll() {
	for p := range running {
		p.Stop()
	}
}

// waitReady calls ready every 50 ms for at most 30 s (5 minutes for a
// server under callgrind).
func waitReady(p *proc, ready func() bool) error {
	tries := 600
	if p.noSignals {
		tries *= 10
	}
	for range tries {
		if ready() {
			return nil
		}
		if p.cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(p.log.Name())
	return fmt.Errorf("%s did not become ready on %s; its log:\n%s", p.name, p.addr, out)
}

// startDynalite starts a fresh in-memory dynalite with a Node heap of
// heapMB.
func startDynalite(testbed, workDir string, heapMB int) (*proc, error) {
	cli := filepath.Join(testbed, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("dynalite is not installed (%v); run make testbed", err)
	}
	// The guard keeps dynalite up when a client drops a request midway
	// (see the script); bench runs from the repository root.
	guard, err := filepath.Abs(filepath.Join("scripts", "dynalite-guard.js"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(guard); err != nil {
		return nil, fmt.Errorf("run bench from the repository root: %v", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", fmt.Sprintf("--max-old-space-size=%d", heapMB), "-r", guard, cli,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	p, err := startProc("dynalite", filepath.Join(workDir, "dynalite.log"), cmd)
	if err != nil {
		return nil, err
	}
	p.addr = fmt.Sprintf("127.0.0.1:%d", port)
	err = waitReady(p, func() bool {
		resp, err := http.Get("http://" + p.addr + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	if err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// cairnServer is a `cairn server` process and its API client.
type cairnServer struct {
	*proc
	client *bk.Client
	// profile is where a cairnprof build writes its CPU profile; "" when
	// not profiling.
	profile string
	// callgrind: the server runs under callgrind.
	callgrind bool
}

// pollEvery is how often the harness polls the server's jobs: under
// callgrind a job runs about 50 times slower, and so would the polls
// counted against each item.
func (s *cairnServer) pollEvery() time.Duration {
	if s.callgrind {
		return time.Second
	}
	return pollEvery
}

// zeroCounts starts counting instructions from zero (callgrind only).
func (s *cairnServer) zeroCounts() error {
	if !s.callgrind {
		return nil
	}
	return callgrindControl("-z", s.cmd.Process.Pid)
}

// dumpCounts writes the instructions counted since zeroCounts to a new
// dump file and returns their total (callgrind only).
func (s *cairnServer) dumpCounts() (int64, error) {
	if !s.callgrind {
		return 0, nil
	}
	pid := s.cmd.Process.Pid
	if err := callgrindControl("-d", pid); err != nil {
		return 0, err
	}
	// The dump is FILE.PID.N, the highest N the newest.
	dumps, _ := filepath.Glob(filepath.Join(filepath.Dir(s.cgOut()), fmt.Sprintf("cairn-server.%d.*", pid)))
	newest, best := "", -1
	for _, d := range dumps {
		if n, err := strconv.Atoi(d[strings.LastIndexByte(d, '.')+1:]); err == nil && n > best {
			newest, best = d, n
		}
	}
	if newest == "" {
		return 0, fmt.Errorf("callgrind wrote no dump for pid %d", pid)
	}
	b, err := os.ReadFile(newest)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "totals: "); ok {
			return strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no totals line", newest)
}

func (s *cairnServer) cgOut() string {
	for _, a := range s.cmd.Args {
		if v, ok := strings.CutPrefix(a, "--callgrind-out-file="); ok {
			return v
		}
	}
	return ""
}

func callgrindControl(op string, pid int) error {
	out, err := exec.Command("callgrind_control", op, strconv.Itoa(pid)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("callgrind_control %s %d: %v: %s", op, pid, err, out)
	}
	return nil
}

// startProfile starts the server's CPU profile (no-op when not profiling).
func (s *cairnServer) startProfile() error {
	if s.profile == "" {
		return nil
	}
	os.Remove(s.profile)
	return s.cmd.Process.Signal(syscall.SIGUSR1)
}

// stopProfile stops the server's CPU profile and moves it to dst once the
// server has written it.
func (s *cairnServer) stopProfile(dst string) error {
	if s.profile == "" {
		return nil
	}
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	for range 600 {
		if err := os.Rename(s.profile, dst); err == nil {
			_ = os.Rename(s.profile+".allocs-start", strings.TrimSuffix(dst, ".pprof")+".allocs-start.pprof")
			_ = os.Rename(s.profile+".allocs", strings.TrimSuffix(dst, ".pprof")+".allocs.pprof")
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("cairn server wrote no CPU profile to %s", s.profile)
}

// startCairn starts `cairn server` on dataDir with dynalite at
// ddbEndpoint as the source "local".
func startCairn(o *options, bin, dataDir, ddbEndpoint string) (*cairnServer, error) {
	return startCairnWith(o, bin, dataDir, ddbEndpoint, "")
}

// startCairnWith is startCairn with more config file keys (YAML).
func startCairnWith(o *options, bin, dataDir, ddbEndpoint, extraConfig string) (*cairnServer, error) {
	writers := o.writers
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	cfg := dataDir + ".yaml"
	yaml := fmt.Sprintf("restore_writers: %d\nsources:\n  - name: local\n    region: us-east-1\n    endpoint: %s\n    access_key_id: bench\n    secret_access_key: bench\n",
		writers, ddbEndpoint)
	yaml += extraConfig
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	argv := []string{bin, "server", "--listen", addr, "--data-dir", dataDir, "--config", cfg, "--log-level", "warn"}
	env := cleanEnv()
	if o.callgrindDir != "" {
		// Instrumentation starts when a job starts (callgrind_control -z).
		// Go's asynchronous preemption signals trip callgrind's signal
		// bookkeeping, so they are off; so is any other signal (see Stop).
		argv = append([]string{"valgrind", "--tool=callgrind", "--callgrind-out-file=" + filepath.Join(o.callgrindDir, "cairn-server.%p")}, argv...)
		env = append(env, "GODEBUG=asyncpreemptoff=1")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	var profile string
	if o.profileDir != "" {
		profile = filepath.Join(o.workDir, "server.pprof")
		cmd.Env = append(cmd.Env, "CAIRN_CPUPROFILE="+profile)
	}
	p, err := startProc("cairn server", dataDir+".log", cmd)
	if err != nil {
		return nil, err
	}
	p.addr = addr
	p.noSignals = o.callgrindDir != ""
	s := &cairnServer{proc: p, profile: profile, callgrind: o.callgrindDir != ""}
	err = waitReady(p, func() bool {
		if s.client == nil {
			c, err := backupClient(dataDir, addr)
			if err != nil {
				return false
			}
			s.client = c
		}
		_, err := s.client.ListBackupVaults(context.Background(), &bk.ListBackupVaultsInput{})
		return err == nil
	})
	if err != nil {
		p.Stop()
		return nil, err
	}
	return s, nil
}

// cleanEnv is the environment without the developer's AWS and cairn
// settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "CAIRN_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
}

// backupClient is an AWS Backup client with the key pair the server wrote
// into its data dir.
func backupClient(dataDir, addr string) (*bk.Client, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "credentials.json"))
	if err != nil {
		return nil, err
	}
	var k struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(b, &k); err != nil || k.AccessKeyID == "" {
		return nil, fmt.Errorf("credentials.json: %v", err)
	}
	return bk.New(bk.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, "")}), nil
}

// procStats is what /proc says about a process.
type procStats struct {
	HWM int64   // VmHWM, peak resident set, bytes
	CPU cpuTime // user and system time so far
}

func readProcStats(pid int) (procStats, error) {
	var st procStats
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return st, fmt.Errorf("VmHWM: %w", err)
			}
			st.HWM = kb << 10
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// Fields after the command name in parentheses; utime and stime are
	// fields 14 and 15 of the line, in clock ticks (USER_HZ, 100 on Linux).
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f2 := strings.Fields(rest)
	if len(f2) < 13 {
		return st, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, _ := strconv.ParseInt(f2[11], 10, 64)
	stt, _ := strconv.ParseInt(f2[12], 10, 64)
	st.CPU = cpuTime{time.Duration(ut) * 10 * time.Millisecond, time.Duration(stt) * 10 * time.Millisecond}
	return st, nil
}

// cpu is the process's CPU time so far (user and system), 0 when /proc
// cannot tell.
func (p *proc) cpu() time.Duration {
	st, err := readProcStats(p.cmd.Process.Pid)
	if err != nil {
		return 0
	}
	return st.CPU.user + st.CPU.sys
}

func (s *cairnServer) stats() procStats {
	st, err := readProcStats(s.cmd.Process.Pid)
	if err != nil {
		logf("warning: cannot read /proc of cairn server: %v", err)
	}
	return st
}
