package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	bk "github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"

	"github.com/cairn-backup/cairn/internal/backup"
)

// DefaultEndpoint is where the CLI looks for the server without
// CAIRN_ENDPOINT or --endpoint.
const DefaultEndpoint = "http://127.0.0.1:7171"

// placeholderRole is sent where AWS Backup requires an IAM role; cairn does
// not use IAM.
const placeholderRole = "arn:aws:iam::000000000000:role/cairn"

// cli is the state the client commands share: where the server is, the
// API client once connected, and where output goes.
type cli struct {
	stdout, stderr io.Writer
	client         *bk.Client
	httpc          *http.Client
	region         string
	account        string
	poll           time.Duration

	// The connection and output flags every client command has.
	endpoint string
	dataDir  string
	out      outputFlags
}

// clientGroup makes cmd the top of a group of client commands: it gets the
// connection flags, which its subcommands inherit.
func (c *cli) clientGroup(cmd *cobra.Command) *cobra.Command {
	fs := cmd.PersistentFlags()
	fs.StringVar(&c.endpoint, "endpoint", "", "cairn server URL (default $CAIRN_ENDPOINT or "+DefaultEndpoint+")")
	fs.StringVar(&c.dataDir, "data-dir", "", "where to find the server's key pair if CAIRN_ACCESS_KEY_ID is unset (default $CAIRN_DATA_DIR or ~/.local/share/cairn)")
	c.out.register(cmd)
	return cmd
}

// runE adapts a client command's function to cobra, turning API errors
// into one line that says what happened.
func (c *cli) runE(fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := c.out.check(cmd); err != nil {
			return err
		}
		return explain(fn(cmd.Context(), args))
	}
}

func (c *cli) endpointURL() string {
	if c.endpoint != "" {
		return c.endpoint
	}
	return envOr("CAIRN_ENDPOINT", DefaultEndpoint)
}

func (c *cli) keysDir() string {
	if c.dataDir != "" {
		return c.dataDir
	}
	return defaultDataDir()
}

// connect makes the API client from the connection flags.
func (c *cli) connect() error {
	k, err := clientKeys(c.keysDir())
	if err != nil {
		return err
	}
	if c.httpc, err = cliHTTPClient(); err != nil {
		return err
	}
	c.region = envOr("AWS_REGION", "us-east-1")
	c.account = envOr("CAIRN_TABLE_ACCOUNT_ID", "000000000000")
	c.client = bk.New(bk.Options{
		Region:       c.region,
		BaseEndpoint: aws.String(c.endpointURL()),
		Credentials:  credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""),
		HTTPClient:   c.httpc,
	})
	if c.poll == 0 {
		c.poll = 500 * time.Millisecond
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// explain turns API errors into one line that says what happened.
func explain(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
		if ae.ErrorCode() == "UnrecognizedClientException" || ae.ErrorCode() == "InvalidSignatureException" {
			msg += " (check CAIRN_ACCESS_KEY_ID/CAIRN_SECRET_ACCESS_KEY or CAIRN_DATA_DIR)"
		}
		return errors.New(msg)
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("cannot reach the cairn server: %v (is `cairn server` running? set CAIRN_ENDPOINT)", oe.Err)
	}
	return err
}

// width is the width tables fit: tableWidth, or no limit with --wide.
func (c *cli) width() int {
	if c.out.wide {
		return 0
	}
	return tableWidth
}

// shortID is the first 8 characters of an id (a UUID), which commands that
// take an id accept as long as it is unique; --wide shows it whole.
func (c *cli) shortID(id string) string {
	if c.out.wide || len(id) <= 8 {
		return id
	}
	return id[:8]
}

// say prints a message for people: on stdout, or on stderr when stdout is
// JSON.
func (c *cli) say(format string, a ...any) {
	w := c.stdout
	if c.out.json() {
		w = c.stderr
	}
	fmt.Fprintf(w, format+"\n", a...)
}

// tableARN accepts a table name or ARN.
func (c *cli) tableARN(s string) string {
	if strings.HasPrefix(s, "arn:") {
		return s
	}
	return backup.TableARN(c.region, c.account, s)
}
