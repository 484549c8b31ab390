package awsapi

import "net/http"

// UnknownOperation is what Operation names a request no route serves.
const UnknownOperation = "Unknown"

// Operation names the operation r asks for, as the route table names it
// (AWS's operation name, or cairn's for the /cairn/ routes), or
// UnknownOperation. It reads only the method and the path, not the body
// nor the signature, so that a middleware (the metrics') can label every
// request, refused ones included.
func (s *Server) Operation(r *http.Request) string {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		if op, ok := s.ops[pattern]; ok {
			return op
		}
	}
	return UnknownOperation
}
