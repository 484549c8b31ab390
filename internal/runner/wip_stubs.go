package runner

import (
	"errors"
	"time"
)

// Temporary while issue 3 is being built; each is replaced by its real
// implementation.
var errTODO = errors.New("not implemented yet")

var _ = time.Time{}
