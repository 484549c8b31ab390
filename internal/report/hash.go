package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// requestHash returns the hash of a request's parameters (the operation's
// name and the JSON of in, whose token the caller has cleared), to tell a
// retry with an idempotency token from a request that reuses the token
// with other parameters.
func requestHash(op string, in any) string {
	b, err := json.Marshal(in)
	if err != nil { // the inputs are plain structs
		panic(fmt.Sprintf("report: hash %s request: %v", op, err))
	}
	sum := sha256.Sum256(append([]byte(op+"\n"), b...))
	return "sha256:" + hex.EncodeToString(sum[:])
}
