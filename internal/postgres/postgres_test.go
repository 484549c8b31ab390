package postgres_test

import (
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/catalogtest"
	"github.com/cairn-backup/cairn/internal/postgres"
	"github.com/cairn-backup/cairn/internal/testbed"
)

// The conformance suite on a real PostgreSQL: one cluster, a new database
// for each subtest.
func TestCatalog(t *testing.T) {
	pg := testbed.PostgresServer(t)
	catalogtest.Run(t, func(t *testing.T) backup.Catalog {
		c, err := postgres.Open(t.Context(), pg.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}
