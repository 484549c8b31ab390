package sqlite

import "database/sql"

// ReadDB returns the catalog's read-only connections, for what reads whole
// tables besides the catalog's methods (cairn catalog copy). In WAL mode a
// read transaction on it sees one state of the database.
func (c *Catalog) ReadDB() *sql.DB { return c.read }
