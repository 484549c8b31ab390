package awsapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file verifies AWS Signature Version 4, as the SDKs and the AWS CLI
// make it for a non-S3 service:
//
//	CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
//	StringToSign     = "AWS4-HMAC-SHA256" \n X-Amz-Date \n Scope \n hex(sha256(CanonicalRequest))
//	Signature        = hex(HMAC(kSigning, StringToSign)), kSigning derived from the secret and Scope
//
// For services other than S3 the canonical URI is the request's path as sent
// (already percent-encoded) percent-encoded once more, so "%3A" in the path
// becomes "%253A" in the canonical request. AWS's SigV4 documentation, and
// botocore (SigV4Auth._normalize_url_path), first normalise the path: empty
// segments ("//") and "." segments are dropped and ".." removes the segment
// before it (RFC 3986's remove_dot_segments). aws-sdk-go-v2's signer does
// not normalise: it signs the path as sent. A signature made either way is
// accepted (canonicalURIs).

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	// amzDateFormat is X-Amz-Date's layout (ISO 8601 basic, UTC).
	amzDateFormat = "20060102T150405Z"
	// maxClockSkew is how far X-Amz-Date may be from the server's clock.
	maxClockSkew = 15 * time.Minute
	// maxPresignExpiry is the longest X-Amz-Expires AWS accepts (7 days).
	maxPresignExpiry = 7 * 24 * time.Hour
)

// CredentialsFunc returns the secret access key of accessKeyID, or ok false
// if the key is unknown.
type CredentialsFunc func(accessKeyID string) (secret string, ok bool)

// sigV4Auth is what an Authorization header (or a presigned URL's query)
// carries.
type sigV4Auth struct {
	AccessKeyID   string
	Date          string // scope date, YYYYMMDD
	Region        string
	Service       string
	SignedHeaders []string // lower case, sorted, unique
	Signature     string   // 64 lower-case hex digits
}

// scope returns the credential scope, DATE/REGION/SERVICE/aws4_request.
func (a sigV4Auth) scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/backup/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
func parseAuthorization(h string) (sigV4Auth, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != sigV4Algorithm {
		return sigV4Auth{}, fmt.Errorf("authorization header must start with %q", sigV4Algorithm)
	}
	var credential, signedHeaders, signature string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return sigV4Auth{}, fmt.Errorf("authorization header component %q is not KEY=VALUE", strings.TrimSpace(part))
		}
		var i int
		switch k {
		case "Credential":
			i, credential = 0, v
		case "SignedHeaders":
			i, signedHeaders = 1, v
		case "Signature":
			i, signature = 2, v
		default:
			return sigV4Auth{}, fmt.Errorf("authorization header has unknown component %q", k)
		}
		if seen[i] {
			return sigV4Auth{}, fmt.Errorf("authorization header repeats %q", k)
		}
		seen[i] = true
	}
	for i, name := range []string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return sigV4Auth{}, fmt.Errorf("authorization header requires a %q component", name)
		}
	}
	return newSigV4Auth(credential, signedHeaders, signature)
}

// newSigV4Auth checks and assembles the three parts of a signature.
func newSigV4Auth(credential, signedHeaders, signature string) (sigV4Auth, error) {
	// The access key comes first; the four scope parts never contain '/'.
	parts := strings.Split(credential, "/")
	if len(parts) < 5 {
		return sigV4Auth{}, fmt.Errorf("credential %q must be ACCESS_KEY/DATE/REGION/SERVICE/aws4_request", credential)
	}
	n := len(parts)
	a := sigV4Auth{
		AccessKeyID: strings.Join(parts[:n-4], "/"),
		Date:        parts[n-4],
		Region:      parts[n-3],
		Service:     parts[n-2],
		Signature:   signature,
	}
	if a.AccessKeyID == "" || a.Region == "" || a.Service == "" || parts[n-1] != "aws4_request" {
		return sigV4Auth{}, fmt.Errorf("credential %q must be ACCESS_KEY/DATE/REGION/SERVICE/aws4_request", credential)
	}
	if _, err := time.Parse("20060102", a.Date); err != nil {
		return sigV4Auth{}, fmt.Errorf("credential date %q is not YYYYMMDD", a.Date)
	}
	if signedHeaders == "" {
		return sigV4Auth{}, fmt.Errorf("signed headers must not be empty")
	}
	a.SignedHeaders = strings.Split(signedHeaders, ";")
	for i, h := range a.SignedHeaders {
		if h == "" || h != strings.ToLower(h) || strings.TrimSpace(h) != h {
			return sigV4Auth{}, fmt.Errorf("signed header %q must be a lower-case header name", h)
		}
		if i > 0 && a.SignedHeaders[i-1] >= h {
			return sigV4Auth{}, fmt.Errorf("signed headers %q must be sorted and unique", signedHeaders)
		}
	}
	if !slices.Contains(a.SignedHeaders, "host") {
		return sigV4Auth{}, fmt.Errorf("signed headers %q must include host", signedHeaders)
	}
	if len(signature) != 64 || strings.ToLower(signature) != signature {
		return sigV4Auth{}, fmt.Errorf("signature must be 64 lower-case hex digits")
	}
	if _, err := hex.DecodeString(signature); err != nil {
		return sigV4Auth{}, fmt.Errorf("signature must be 64 lower-case hex digits")
	}
	return a, nil
}

// verifier checks the signatures of requests.
type verifier struct {
	credentials CredentialsFunc
	now         func() time.Time
	service     string
}

// verify checks r's signature over body and returns the access key that
// signed it, or an *apiError saying why it is refused.
func (v *verifier) verify(r *http.Request, body []byte) (string, error) {
	p, err := v.precheck(r)
	if err != nil {
		return "", err
	}
	return p.finish(r, body)
}

// prechecked is a request whose signature's headers passed precheck; only
// the signature over the body is left to check.
type prechecked struct {
	auth      sigV4Auth
	amzDate   string
	presigned bool
	secret    string
}

// precheck checks everything about r's signature that needs no body: an
// Authorization header (or presigned query) that is present and well
// formed, a credential scoped to this service and to the request's date, a
// date within the allowed clock skew, and a known access key. The server
// calls it before reading any byte of the body, so that a client without a
// valid key costs no more than its headers.
func (v *verifier) precheck(r *http.Request) (*prechecked, error) {
	a, amzDate, presigned, err := v.extract(r)
	if err != nil {
		return nil, err
	}
	if a.Service != v.service {
		return nil, errInvalidSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'.", v.service))
	}
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return nil, errIncompleteSignature(fmt.Sprintf("X-Amz-Date %q is not in the format YYYYMMDD'T'HHMMSS'Z'.", amzDate))
	}
	if t.Format("20060102") != a.Date {
		return nil, errInvalidSignature(fmt.Sprintf("Credential should be scoped to a valid date: '%s'.", t.Format("20060102")))
	}
	if err := v.checkTime(r, t, presigned); err != nil {
		return nil, err
	}
	secret, ok := v.credentials(a.AccessKeyID)
	if !ok {
		return nil, &apiError{Status: http.StatusForbidden, Type: "UnrecognizedClientException",
			Message: "The security token included in the request is invalid."}
	}
	for _, name := range a.SignedHeaders {
		if name != "host" && name != "content-length" && len(r.Header.Values(name)) == 0 {
			return nil, errIncompleteSignature(fmt.Sprintf("signed header %q is not in the request", name))
		}
	}
	return &prechecked{auth: a, amzDate: amzDate, presigned: presigned, secret: secret}, nil
}

// finish checks the signature over body and returns the access key that
// signed the request.
func (p *prechecked) finish(r *http.Request, body []byte) (string, error) {
	payloadHash := hashHex(body)
	for _, uri := range canonicalURIs(rawPath(r)) {
		creq, err := canonicalRequest(r, uri, p.auth.SignedHeaders, payloadHash, p.presigned)
		if err != nil {
			return "", errIncompleteSignature(err.Error())
		}
		if want := signature(p.secret, p.auth, p.amzDate, creq); hmac.Equal([]byte(want), []byte(p.auth.Signature)) {
			return p.auth.AccessKeyID, nil
		}
	}
	return "", errInvalidSignature("The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// extract finds the signature in the Authorization header or, for a
// presigned URL, in the query.
func (v *verifier) extract(r *http.Request) (a sigV4Auth, amzDate string, presigned bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		a, err := parseAuthorization(h)
		if err != nil {
			return sigV4Auth{}, "", false, errIncompleteSignature(err.Error())
		}
		amzDate := r.Header.Get("X-Amz-Date")
		if amzDate == "" {
			// A client may date the request with Date instead.
			d, err := http.ParseTime(r.Header.Get("Date"))
			if err != nil {
				return sigV4Auth{}, "", false, errIncompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
			}
			amzDate = d.UTC().Format(amzDateFormat)
		}
		return a, amzDate, false, nil
	}
	q := r.URL.Query()
	if !q.Has("X-Amz-Algorithm") && !q.Has("X-Amz-Signature") {
		return sigV4Auth{}, "", false, &apiError{Status: http.StatusForbidden, Type: "MissingAuthenticationTokenException",
			Message: "Missing Authentication Token"}
	}
	if q.Get("X-Amz-Algorithm") != sigV4Algorithm {
		return sigV4Auth{}, "", false, errIncompleteSignature("X-Amz-Algorithm must be " + sigV4Algorithm + ".")
	}
	a, err = newSigV4Auth(q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"))
	if err != nil {
		return sigV4Auth{}, "", false, errIncompleteSignature(err.Error())
	}
	return a, q.Get("X-Amz-Date"), true, nil
}

// checkTime refuses a request signed too far from now or, if presigned,
// used after it expired.
func (v *verifier) checkTime(r *http.Request, t time.Time, presigned bool) error {
	now := v.now()
	if presigned {
		secs, err := strconv.ParseInt(r.URL.Query().Get("X-Amz-Expires"), 10, 64)
		if err != nil || secs < 1 || time.Duration(secs)*time.Second > maxPresignExpiry {
			return errIncompleteSignature("X-Amz-Expires must be a number of seconds from 1 to 604800.")
		}
		if now.Before(t.Add(-maxClockSkew)) {
			return errInvalidSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s",
				t.Format(amzDateFormat), now.Add(maxClockSkew).UTC().Format(amzDateFormat)))
		}
		if now.After(t.Add(time.Duration(secs) * time.Second)) {
			return errInvalidSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s",
				t.Add(time.Duration(secs)*time.Second).Format(amzDateFormat), now.UTC().Format(amzDateFormat)))
		}
		return nil
	}
	if t.Before(now.Add(-maxClockSkew)) {
		return errInvalidSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			t.Format(amzDateFormat), now.Add(-maxClockSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat)))
	}
	if t.After(now.Add(maxClockSkew)) {
		return errInvalidSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			t.Format(amzDateFormat), now.Add(maxClockSkew).UTC().Format(amzDateFormat), now.UTC().Format(amzDateFormat)))
	}
	return nil
}

// canonicalRequest builds the canonical request of r with the canonical URI
// uri. A presigned request's X-Amz-Signature is left out of the canonical
// query.
func canonicalRequest(r *http.Request, uri string, signedHeaders []string, payloadHash string, presigned bool) (string, error) {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	q, err := canonicalQuery(r.URL.RawQuery, presigned)
	if err != nil {
		return "", err
	}
	b.WriteString(q)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		default:
			values = r.Header.Values(name)
			if len(values) == 0 && name == "content-length" && r.ContentLength >= 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		}
		if len(values) == 0 {
			return "", fmt.Errorf("signed header %q is not in the request", name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, val := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.Join(strings.Fields(val), " "))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// rawPath returns the path exactly as the client sent it, still
// percent-encoded.
func rawPath(r *http.Request) string {
	if p, _, _ := strings.Cut(r.RequestURI, "?"); strings.HasPrefix(p, "/") {
		return p
	}
	return r.URL.EscapedPath()
}

// canonicalURIs returns the canonical URIs a client may have signed the raw
// (still percent-encoded) path with: first the normalised one of AWS's
// documentation and botocore (normalizePath), then, if it differs, the path
// as sent, which aws-sdk-go-v2 signs.
func canonicalURIs(path string) []string {
	norm := canonicalURI(normalizePath(path))
	if asSent := canonicalURI(path); asSent != norm {
		return []string{norm, asSent}
	}
	return []string{norm}
}

// canonicalURI percent-encodes every byte of path except unreserved
// characters and '/'. Applied to the raw (already encoded) path this is the
// double encoding SigV4 asks for outside S3.
func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	return sigV4Escape(path, false)
}

// normalizePath normalises a raw path as botocore does before signing for
// any service but S3 (botocore.utils.normalize_url_path): empty and "."
// segments are dropped, ".." drops the segment before it (never going above
// the root), the leading '/' stays, and a trailing '/' stays unless nothing
// is left. Only literal dots count: "%2E" is not a dot segment.
func normalizePath(path string) string {
	if path == "" {
		return "/"
	}
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if path[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if path[len(path)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// canonicalQuery sorts the query's parameters by name, then value, each
// decoded and re-encoded the SigV4 way.
func canonicalQuery(raw string, presigned bool) (string, error) {
	type kv struct{ k, v string }
	var pairs []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return "", fmt.Errorf("query parameter name %q: %v", k, err)
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return "", fmt.Errorf("query parameter %q: %v", k, err)
		}
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, kv{sigV4Escape(k, true), sigV4Escape(v, true)})
	}
	slices.SortFunc(pairs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// sigV4Escape percent-encodes s, keeping A-Z a-z 0-9 - _ . ~ and, unless
// escapeSlash, '/'.
func sigV4Escape(s string, escapeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !escapeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// signature computes the hex signature of a canonical request.
func signature(secret string, a sigV4Auth, amzDate, canonicalRequest string) string {
	stringToSign := sigV4Algorithm + "\n" + amzDate + "\n" + a.scope() + "\n" + hashHex([]byte(canonicalRequest))
	key := hmacSHA256([]byte("AWS4"+secret), a.Date)
	key = hmacSHA256(key, a.Region)
	key = hmacSHA256(key, a.Service)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func errIncompleteSignature(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Type: "IncompleteSignatureException", Message: msg}
}

func errInvalidSignature(msg string) *apiError {
	return &apiError{Status: http.StatusForbidden, Type: "InvalidSignatureException", Message: msg}
}
