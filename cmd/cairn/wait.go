package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/cairn-backup/cairn/internal/awsapi"
)

// exitInterrupted is the exit code after Ctrl-C (128 + SIGINT).
const exitInterrupted = 130

// createTimeout bounds how long a start command waits for the server to
// answer once Ctrl-C was pressed, so that it can say whether a job exists.
const createTimeout = 30 * time.Second

// create runs a call that creates a job. Ctrl-C does not cut the call
// short: cairn waits for the server's answer (at most createTimeout) so
// that it can say whether the job exists. It returns the job's id.
func (c *cli) create(ctx context.Context, kind string, call func(context.Context) (string, error)) (string, error) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	defer cancel()
	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := call(cctx)
		done <- result{id, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		fmt.Fprintf(c.stderr, "interrupted while the %s job is being created; waiting for the server's answer...\n", kind)
		r = <-done
	}
	if ctx.Err() == nil {
		return r.id, r.err
	}
	switch {
	case r.err == nil:
		return "", &exitError{exitInterrupted, fmt.Errorf("interrupted: %s job %s was created and goes on; follow it: cairn %s describe %s --wait%s",
			kind, r.id, kind, r.id, stopHint(kind, r.id))}
	case errors.Is(r.err, context.DeadlineExceeded):
		return "", &exitError{exitInterrupted, fmt.Errorf("interrupted: the server did not answer in %s; whether a %s job was created is not known: see cairn %s list",
			createTimeout, kind, kind)}
	}
	return "", &exitError{exitInterrupted, fmt.Errorf("interrupted: no %s job was created (%v)", kind, explain(r.err))}
}

func stopHint(kind, id string) string {
	if kind == "backup" {
		return "; stop it: cairn backup stop " + id
	}
	return ""
}

// jobEnded says whether a job's state is final.
func jobEnded(kind, state string) bool {
	switch state {
	case "COMPLETED", "FAILED", "ABORTED":
		return true
	case "EXPIRED", "PARTIAL":
		return kind == "backup"
	}
	return false
}

// wait shows a job's progress on stderr until it ends, then prints it
// (final prints it and says whether it completed). A job that did not
// complete exits 3; Ctrl-C stops waiting, not the job.
func (c *cli) wait(ctx context.Context, kind, id string, final func(context.Context) (ok bool, state, msg string, err error)) error {
	ext, err := c.connectExt()
	if err != nil {
		return err
	}
	pr := newProgress(c.stderr)
	verb, bytesKnown := "read", true
	if kind == "restore" {
		verb, bytesKnown = "written", false
	}
	for {
		var jp awsapi.JobProgress
		err := ext.do(ctx, http.MethodGet, "/cairn/"+kind+"-jobs/"+url.PathEscape(id)+"/progress", nil, nil, &jp)
		if err != nil && ctx.Err() == nil {
			pr.done()
			return err
		}
		if err == nil && jobEnded(kind, jp.State) {
			pr.done()
			ok, state, msg, err := final(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return &exitError{3, fmt.Errorf("%s job %s ended %s: %s", kind, id, state, msg)}
			}
			return nil
		}
		if err == nil {
			l := progressLook{state: jp.State, phase: jp.Phase, percent: jp.PercentDone, items: jp.Items, bytes: jp.Bytes, verb: verb}
			if !bytesKnown {
				l.bytes = -1
			}
			pr.show(l)
		}
		select {
		case <-ctx.Done():
			pr.done()
			return &exitError{exitInterrupted, fmt.Errorf("interrupted: stopped waiting; %s job %s goes on: cairn %s describe %s --wait%s",
				kind, id, kind, id, stopHint(kind, id))}
		case <-time.After(c.poll):
		}
	}
}
