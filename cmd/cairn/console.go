package main

import (
	"net/http"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/console"
)

// withConsole serves the web console under /console/ beside the API on
// the same listener: the console reads and acts through the same service
// and signs in with the API's key pair (see docs/console.md).
func (m *Main) withConsole(api http.Handler, compliance backup.ComplianceService) (http.Handler, error) {
	c, err := console.New(console.Config{
		Service: m.Service, Compliance: compliance, PointTable: m.Service.RecoveryPointTable, Region: m.Config.Region, AccountID: m.Config.AccountID,
		Secure: m.http.TLSConfig != nil, Clock: m.Clock, Logger: m.Logger,
		Credentials: func(id string) (string, bool) {
			if id == m.Keys.AccessKeyID {
				return m.Keys.SecretAccessKey, true
			}
			return "", false
		},
	})
	if err != nil {
		return nil, err
	}
	m.Console = c
	m.http.RegisterOnShutdown(c.Close)
	// A plain prefix test rather than a ServeMux: the API's paths reach it
	// exactly as they came, never cleaned or redirected.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, console.Prefix):
			c.ServeHTTP(w, r)
		case r.URL.Path == "/console":
			http.Redirect(w, r, console.Prefix, http.StatusMovedPermanently)
		default:
			api.ServeHTTP(w, r)
		}
	}), nil
}
