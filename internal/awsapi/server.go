// Package awsapi serves cairn's backup.Service as the AWS Backup REST-JSON
// API, so that the AWS CLI and the AWS SDKs work against cairn unchanged.
//
// The wire format follows botocore's model of AWS Backup (2018-11-15): each
// operation is an HTTP method and path, its members travel in the path, the
// query string and a JSON body under AWS's names, timestamps in bodies are
// epoch seconds, and errors carry AWS's exception names in the
// x-amzn-ErrorType header. Every request must be signed with AWS Signature
// Version 4 by a known access key for the service "backup"; requests that
// are not, or that fail validation, never reach the service.
//
// Unauthenticated clients cost little: what the headers say about the
// signature (its form, scope, date and access key) is checked before any
// byte of the body is read, and at most Config.MaxUnverifiedBodies bodies
// are read at once before their signature is checked. Time limits on
// reading requests belong to the http.Server that serves the handler.
//
// Each operation is one entry in the route table (routes.go) and one handler
// of the form func(*Server, *request) (any, error); a single adapter decodes,
// logs, maps errors and encodes for all of them.
package awsapi

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/clock"
)

// Config configures a Server.
type Config struct {
	// Service is what the API serves. Required.
	Service backup.Service
	// Credentials looks up the secret key of an access key; requests signed
	// by keys it does not know are refused. Required.
	Credentials CredentialsFunc
	// Region and AccountID are the region and the 12-digit account the
	// server stands for; they default to us-east-1 and 000000000000.
	// Requests for another account's vaults find nothing. Requests may be
	// signed for any region.
	Region    string
	AccountID string
	// Clock tells the time for signature checks; defaults to clock.Real.
	Clock clock.Clock
	// Logger receives a line per failed request and the detail of internal
	// errors; defaults to slog.Default().
	Logger *slog.Logger
	// MaxUnverifiedBodies bounds how many request bodies are read at once
	// before their signature is checked; default DefaultMaxUnverifiedBodies.
	// Memory for them stays under MaxUnverifiedBodies times the largest
	// body (8 MiB under /cairn/, 1 MiB elsewhere).
	MaxUnverifiedBodies int
	// Compliance answers GET /cairn/compliance (the governance worker);
	// nil when governance is off.
	Compliance backup.ComplianceService
}

// Defaults of Config.
const (
	DefaultRegion              = "us-east-1"
	DefaultAccountID           = "000000000000"
	DefaultMaxUnverifiedBodies = 16
)

// maxBodyWait is how long a request waits for one of the
// MaxUnverifiedBodies slots before it is answered ServiceUnavailable (which
// the SDKs retry).
const maxBodyWait = 5 * time.Second

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// Validate reports the first field of c at fault.
func (c Config) Validate() error {
	switch {
	case c.Service == nil:
		return errors.New("awsapi: Config.Service is required")
	case c.Credentials == nil:
		return errors.New("awsapi: Config.Credentials is required")
	case c.AccountID != "" && !accountIDPattern.MatchString(c.AccountID):
		return fmt.Errorf("awsapi: Config.AccountID %q must be 12 digits", c.AccountID)
	case c.MaxUnverifiedBodies < 0:
		return fmt.Errorf("awsapi: Config.MaxUnverifiedBodies %d must not be negative", c.MaxUnverifiedBodies)
	}
	return nil
}

// maxBodyBytes bounds a request body; AWS Backup's requests are small.
// cairn's own operations allow more (maxExtBodyBytes).
const maxBodyBytes = 1 << 20

// Log attribute keys.
const (
	logOp        = "op"
	logStatus    = "status"
	logError     = "error"
	logRequestID = "request_id"
)

// Server is the AWS Backup API as an http.Handler.
type Server struct {
	svc       backup.Service
	region    string
	accountID string
	log       *slog.Logger
	auth      verifier
	mux       *http.ServeMux
	// bodies holds one token per body being read before its signature is
	// checked.
	bodies chan struct{}
	// compliance is Config.Compliance.
	compliance backup.ComplianceService
	// ops names the operation of each ServeMux pattern (Operation).
	ops map[string]string
}

// New returns a Server for cfg, or an error naming the field of cfg at fault.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		svc:       cfg.Service,
		region:    cfg.Region,
		accountID: cfg.AccountID,
		log:       cfg.Logger,
		mux:       http.NewServeMux(),

		compliance: cfg.Compliance,
		ops:        map[string]string{},
	}
	if s.region == "" {
		s.region = DefaultRegion
	}
	if s.accountID == "" {
		s.accountID = DefaultAccountID
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	n := cfg.MaxUnverifiedBodies
	if n == 0 {
		n = DefaultMaxUnverifiedBodies
	}
	s.bodies = make(chan struct{}, n)
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	s.auth = verifier{credentials: cfg.Credentials, now: clk.Now, service: "backup"}
	for _, rt := range routes {
		h := s.adapt(rt)
		s.mux.Handle(rt.pattern, h)
		s.ops[rt.pattern] = rt.op
		// The model's list URIs end in '/', which the Go SDK drops when it
		// adds a query string: serve both.
		if p, ok := strings.CutSuffix(rt.pattern, "/{$}"); ok {
			s.mux.Handle(p, h)
			s.ops[p] = rt.op
		}
	}
	s.mux.Handle("/", s.adapt(route{op: "Unknown", handle: func(*Server, *request) (any, error) {
		return nil, errUnknownOperation()
	}}))
	return s, nil
}

// ServeHTTP authenticates r and dispatches it to its operation. The
// signature's headers are checked before the body is read, the body is read
// only while one of the bounded slots for unverified bodies is held, and
// the signature over it is checked before anything else happens.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	pre, err := s.auth.precheck(r)
	if err != nil {
		s.refuse(w, r, reqID, err)
		return
	}
	limit := int64(maxBodyBytes)
	if strings.HasPrefix(r.URL.Path, extPrefix) {
		limit = maxExtBodyBytes
	}
	if r.ContentLength > limit {
		s.refuse(w, r, reqID, errTooLarge())
		return
	}
	wait := time.NewTimer(maxBodyWait)
	select {
	case s.bodies <- struct{}{}:
		wait.Stop()
	case <-wait.C:
		s.refuse(w, r, reqID, errBusy())
		return
	case <-r.Context().Done():
		wait.Stop()
		return
	}
	body, err := readBody(w, r, limit)
	if err == nil {
		_, err = pre.finish(r, body)
	}
	<-s.bodies
	if err != nil {
		s.refuse(w, r, reqID, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.dispatch(w, r, reqID)
}

// refuse answers a request that is not served, and closes its connection
// unless its body was read: an unread body is not worth reading.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	w.Header().Set("Connection", "close")
	s.writeError(w, r, "", reqID, err)
}

// readBody reads r's body, at most limit bytes, into a buffer sized from
// Content-Length when the client sent one.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	var body []byte
	var err error
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(rd, body)
	} else {
		body, err = io.ReadAll(rd)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge()
		}
		return nil, errSerialization("cannot read the request body")
	}
	return body, nil
}

// route is one operation: its ServeMux pattern, its AWS name and its
// handler.
type route struct {
	pattern string
	op      string
	handle  func(*Server, *request) (any, error)
}

// adapt is the one adapter between net/http and the handlers: it runs the
// handler and writes its value as JSON (nothing for a nil value) or its
// error as AWS does.
func (s *Server) adapt(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := w.Header().Get("x-amzn-RequestId")
		body, err := io.ReadAll(r.Body) // already read and bounded by ServeHTTP
		if err != nil {
			s.writeError(w, r, rt.op, reqID, errSerialization("cannot read the request body"))
			return
		}
		out, err := rt.handle(s, &request{r: r, body: body})
		if err != nil {
			s.writeError(w, r, rt.op, reqID, err)
			return
		}
		s.log.DebugContext(r.Context(), "api request", logOp, rt.op, logRequestID, reqID)
		if out == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		b, err := json.Marshal(out)
		if err != nil {
			s.writeError(w, r, rt.op, reqID, fmt.Errorf("encode %s output: %w", rt.op, err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	})
}

// writeError sends err as an AWS error and logs it; the detail of internal
// errors goes to the log only.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, op, reqID string, err error) {
	ae := toAPIError(err)
	level := slog.LevelInfo
	if ae.Status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "api request failed", logOp, op, logStatus, ae.Status,
		logRequestID, reqID, "method", r.Method, "path", r.URL.Path, logError, err.Error())
	b, _ := json.Marshal(errorBody{Code: ae.Type, Message: ae.Message, Type: ae.Kind, Context: ae.Context})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", ae.Type)
	w.WriteHeader(ae.Status)
	_, _ = w.Write(b)
}

// newRequestID returns a random UUID (version 4) for x-amzn-RequestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
