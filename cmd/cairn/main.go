// Command cairn is the cairn backup server and its command-line client.
//
//	cairn server   run the AWS Backup-compatible API and the job runner
//	cairn vault    create, list, describe and delete backup vaults
//	cairn backup   start, list, describe and stop backup jobs
//	cairn restore  start, list and describe restore jobs
//	cairn point    list, describe and delete recovery points
//	cairn plan     list and show backup plans with their next runs
//	cairn explain  say which plans back a table up, and why
//	cairn compliance  every table's governance verdict
//	cairn apply    apply or delete a CloudFormation template (a stack)
//	cairn catalog  back the catalog up, or rebuild it from the vaults
//
// The command tree is built with cobra: one small file per command group
// (vault.go, backup.go, ...), each command a function over the API client.
// This package only parses flags, reads configuration and wires the
// internal packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

const rootLong = `cairn backs up DynamoDB tables and restores them into new tables, speaking
the AWS Backup API. One binary is the server (cairn server) and its client.

Client commands find the server through CAIRN_ENDPOINT (default
http://127.0.0.1:7171) and sign requests with CAIRN_ACCESS_KEY_ID /
CAIRN_SECRET_ACCESS_KEY, or with the key pair the server stored in its data
dir (CAIRN_DATA_DIR, default ~/.local/share/cairn).

Tables fit 100 columns (ids shortened to 8 characters, which commands
accept; ARNs left out); --wide shows every column, --output json the API's
answer. Times are in the local time zone, which they name.

Exit codes: 0 success, 1 an error, 2 a usage error, 3 a job that did not
complete, 4 a vault verify that found problems, 130 interrupted (Ctrl-C).`

const rootExample = `  cairn server --data-dir /var/lib/cairn
  cairn backup start orders
  cairn point list
  cairn restore start RECOVERY_POINT_ARN --table orders-copy
  cairn help backup start`

func main() {
	ctx, stop := context.Background(), func() {}
	if len(os.Args) < 2 || os.Args[1] != "server" {
		// The server handles SIGTERM and SIGINT itself: a graceful stop
		// first, an immediate one at a second signal (runServer).
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
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
	return 1
}

// usageError is a wrong command line: exit code 2, and a pointer to the
// command's help.
func usageError(cmd *cobra.Command, format string, a ...any) error {
	return &exitError{2, fmt.Errorf("%s; see '%s --help'", fmt.Sprintf(format, a...), cmd.CommandPath())}
}

// run runs the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	_, err := root.ExecuteContextC(ctx)
	return err
}

// newRootCmd builds the command tree. Each call builds a fresh tree: flag
// values live in the commands.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:     "cairn",
		Short:   "Back up DynamoDB tables and restore them, speaking the AWS Backup API",
		Long:    rootLong,
		Example: rootExample,
		Version: Version,
		// Errors are printed once, by main, with the exit code they carry.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("cairn {{.Version}}\n")
	// A command that groups subcommands does nothing of its own: its usage
	// shows only "cairn X [command]".
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "Usage:{{if .Runnable}}",
		"Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError(cmd, "%v", err)
	})
	groupCmd(root)

	c := &cli{stdout: stdout, stderr: stderr}
	root.AddGroup(&cobra.Group{ID: "server", Title: "The server:"}, &cobra.Group{ID: "client", Title: "Client commands:"})
	srv := newServerCmd(stderr)
	srv.GroupID = "server"
	root.AddCommand(srv)
	cat := catalogCmd(stdout, stderr)
	cat.GroupID = "server"
	root.AddCommand(cat)
	for _, cmd := range []*cobra.Command{c.vaultCmd(), c.backupCmd(), c.restoreCmd(), c.pointCmd(), c.planCmd(), c.explainCmd(), c.complianceCmd(), c.applyCmd(), c.policyCmd(), c.notifyCmd(), c.clusterCmd()} {
		cmd.GroupID = "client"
		root.AddCommand(cmd)
	}
	root.AddCommand(&cobra.Command{
		Use:     "version",
		Short:   "Print cairn's version",
		Long:    "Print the version cairn was built as (set with -ldflags \"-X main.Version=...\").",
		Example: "  cairn version\n  cairn --version",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(stdout, "cairn", Version)
			return err
		},
	})
	completeHelpAndCompletion(root)
	return root
}

// groupCmd makes cmd a command that only groups subcommands: run without
// one, or with an unknown one, it shows its usage and exits 2.
func groupCmd(cmd *cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cmd.SetOut(cmd.ErrOrStderr())
		_ = cmd.Usage()
		if len(args) == 0 {
			if !cmd.HasParent() {
				return usageError(cmd, "no command given")
			}
			var names []string
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() {
					names = append(names, s.Name())
				}
			}
			return usageError(cmd, "%s needs a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
		}
		msg := fmt.Sprintf("unknown command %q", cmd.CommandPath()+" "+args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", cmd.CommandPath()+" "+s[0])
		}
		return usageError(cmd, "%s", msg)
	}
	return cmd
}

// completeHelpAndCompletion gives cobra's own help and completion commands
// examples like every other command's.
func completeHelpAndCompletion(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, cmd := range root.Commands() {
		switch cmd.Name() {
		case "help":
			cmd.Long = "Help provides help for any command: what it does, its arguments, flags and examples.\nThe same as COMMAND --help."
			cmd.Example = "  cairn help\n  cairn help backup start"
		case "completion":
			cmd.Example = "  source <(cairn completion bash)\n  cairn completion zsh > \"${fpath[1]}/_cairn\""
			for _, sh := range cmd.Commands() {
				sh.Example = "  cairn completion " + sh.Name() + " --help   # how to load it"
			}
		}
	}
}

// noArgs refuses positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(cmd, "%s takes no arguments, got %q; usage: %s", cmd.CommandPath(), args, cmd.UseLine())
	}
	return nil
}

// exactArgs wants n positional arguments, named by what in the message.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return usageError(cmd, "missing %s; usage: %s", what, cmd.UseLine())
		case len(args) > n:
			return usageError(cmd, "too many arguments %q; usage: %s", args, cmd.UseLine())
		}
		return nil
	}
}
