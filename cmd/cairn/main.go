// Command cairn is the cairn backup server and its command-line client.
//
//	cairn server   run the AWS Backup-compatible API and the job runner
//	cairn vault    create, list, describe and delete backup vaults
//	cairn backup   start, list, describe and stop backup jobs
//	cairn restore  start, list and describe restore jobs
//	cairn point    list, describe and delete recovery points
//	cairn plan     list and show backup plans with their next runs
//	cairn explain  say which plans back a table up, and why
//	cairn apply    apply or delete a CloudFormation template (a stack)
//
// This package only parses flags, reads configuration and wires the
// internal packages together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

const usage = `cairn backs up DynamoDB tables and restores them, speaking the AWS Backup API.

Usage:
  cairn server [flags]                  run the server (cairn server -h for flags)
  cairn vault create NAME [--storage s3://BUCKET/PREFIX --s3-endpoint URL]
  cairn vault list | describe NAME | delete NAME
  cairn backup start TABLE [--vault NAME] [--segments N] [--read-rate RCU] [--no-wait]
  cairn backup list [--state STATE] [--vault NAME] [--table TABLE]
  cairn backup describe JOB_ID [--wait] | stop JOB_ID
  cairn restore start RECOVERY_POINT_ARN --table NEW_TABLE [--copy-tags] [--source NAME] [--no-wait]
  cairn restore list [--status STATUS] | describe JOB_ID [--wait]
  cairn point list [--vault NAME] [--table TABLE] | describe ARN | delete ARN
  cairn plan list [--deleted] | show PLAN_ID [--runs N] [--version ID]
  cairn explain TABLE                   which plans, selections and rules back a table up, and why
  cairn apply -f TEMPLATE --stack-name NAME [--parameter KEY=VALUE ...]
                                        create or update a stack's vaults, plans and selections (CloudFormation)
  cairn apply --delete --stack-name NAME | --show --stack-name NAME
  cairn version

Client commands find the server through CAIRN_ENDPOINT (default http://127.0.0.1:7171)
and sign requests with CAIRN_ACCESS_KEY_ID / CAIRN_SECRET_ACCESS_KEY, or with the key
pair the server stored in its data dir (CAIRN_DATA_DIR, default ~/.local/share/cairn).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cairn:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{2, errors.New("no command given")}
	}
	switch args[0] {
	case "server":
		return runServer(ctx, args[1:], stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "cairn", Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "vault", "backup", "restore", "point":
		c := &cli{stdout: stdout, stderr: stderr}
		return c.run(ctx, args[0], args[1:])
	case "apply":
		return (&cli{stdout: stdout, stderr: stderr}).apply(ctx, args[1:])
	case "explain":
		return (&cli{stdout: stdout, stderr: stderr}).explainCmd(ctx, args[1:])
	case "plan":
		return (&cli{stdout: stdout, stderr: stderr}).plan(ctx, args[1:])
	}
	fmt.Fprint(stderr, usage)
	return &exitError{2, fmt.Errorf("unknown command %q", args[0])}
}
