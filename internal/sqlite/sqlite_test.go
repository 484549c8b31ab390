package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/cairn-backup/cairn/internal/backup"
	"github.com/cairn-backup/cairn/internal/catalogtest"
	"github.com/cairn-backup/cairn/internal/sqlite"
)

func TestCatalog(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) backup.Catalog {
		c, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func TestCatalogMemory(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) backup.Catalog {
		c, err := sqlite.OpenMemory(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}
