package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpEveryCommand walks the command tree: every command has a short
// and a long description and an example, and `cairn X --help`, `cairn X -h`
// and `cairn help X` all print them and exit 0.
func TestHelpEveryCommand(t *testing.T) {
	var walk func(cmd *cobra.Command)
	n := 0
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			if sub.Hidden {
				continue
			}
			walk(sub)
		}
		n++
		path := strings.Fields(cmd.CommandPath())[1:]
		name := cmd.CommandPath()
		if cmd.Short == "" || cmd.Long == "" || cmd.Example == "" {
			t.Errorf("%s: Short %q, Long %q, Example %q: each must be set", name, cmd.Short, cmd.Long, cmd.Example)
		}
		for _, args := range [][]string{append(path, "--help"), append(path, "-h"), append([]string{"help"}, path...)} {
			var out, errb bytes.Buffer
			err := run(context.Background(), args, &out, &errb)
			if err != nil {
				t.Errorf("cairn %s: %v (exit %d)", strings.Join(args, " "), err, exitCode(err))
				continue
			}
			help := out.String()
			for _, want := range []string{firstLine(cmd.Long), "Usage:", "Examples:", strings.TrimSpace(firstLine(cmd.Example))} {
				if !strings.Contains(help, want) {
					t.Errorf("cairn %s does not show %q:\n%s", strings.Join(args, " "), want, help)
				}
			}
			if errb.Len() != 0 {
				t.Errorf("cairn %s wrote to stderr: %q", strings.Join(args, " "), errb.String())
			}
		}
	}
	walk(newRootCmd(io.Discard, io.Discard))
	if n < 25 {
		t.Errorf("walked %d commands; the tree has more", n)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestCompletion: the shell completion scripts are generated, and dynamic
// completion offers subcommands.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		out, _ := cairnOK(t, "completion", sh)
		if !strings.Contains(out, "cairn") || len(out) < 500 {
			t.Errorf("completion %s: %d bytes", sh, len(out))
		}
	}
	out, _ := cairnOK(t, "__complete", "backup", "")
	for _, want := range []string{"start", "list", "describe", "stop"} {
		if !strings.Contains(out, want) {
			t.Errorf("completion of `cairn backup ` lacks %s:\n%s", want, out)
		}
	}
}
