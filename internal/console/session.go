package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cairn-backup/cairn/internal/clock"
)

// Cookie names: the session, and the sign-in form's own CSRF token (a
// double-submitted cookie, since there is no session yet).
const (
	sessionCookie = "cairn_console"
	signinCookie  = "cairn_console_signin"
	csrfField     = "csrf"
)

// session is one signed-in browser.
type session struct {
	token       string
	csrf        string
	accessKeyID string
	created     time.Time
	lastSeen    time.Time
}

// sessions keeps sessions in memory: a restart signs everyone out.
type sessions struct {
	mu      sync.Mutex
	byToken map[string]*session
	clock   clock.Clock
	idle    time.Duration
	maxAge  time.Duration
	failed  map[string]*failures
}

func newSessions(c clock.Clock, idle, maxAge time.Duration) *sessions {
	return &sessions{byToken: map[string]*session{}, clock: c, idle: idle, maxAge: maxAge, failed: map[string]*failures{}}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *sessions) create(accessKeyID string) *session {
	now := s.clock.Now()
	ss := &session{token: randomToken(), csrf: randomToken(), accessKeyID: accessKeyID, created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byToken[ss.token] = ss
	// Expired sessions go when new ones come: the map stays as small as
	// the number of live sessions.
	for t, o := range s.byToken {
		if s.expired(o, now) {
			delete(s.byToken, t)
		}
	}
	return ss
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) >= s.idle || now.Sub(ss.created) >= s.maxAge
}

// get returns the live session of token and marks it used, or nil.
func (s *sessions) get(token string) *session {
	if token == "" {
		return nil
	}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byToken[token]
	if ss == nil {
		return nil
	}
	if s.expired(ss, now) {
		delete(s.byToken, token)
		return nil
	}
	ss.lastSeen = now
	return ss
}

func (s *sessions) remove(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byToken, token)
}

// Sign-in throttle: after maxFailures refused sign-ins from one address
// within failureWindow, that address is refused at once (429) until the
// window has passed since its first failure.
const (
	maxFailures   = 10
	failureWindow = 5 * time.Minute
)

type failures struct {
	first time.Time
	count int
}

// throttled reports whether addr has used up its failed sign-ins.
func (s *sessions) throttled(addr string) bool {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.failed[addr]
	if f == nil || now.Sub(f.first) >= failureWindow {
		delete(s.failed, addr)
		return false
	}
	return f.count >= maxFailures
}

// fail counts a refused sign-in from addr.
func (s *sessions) fail(addr string) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.failed[addr]
	if f == nil || now.Sub(f.first) >= failureWindow {
		if len(s.failed) > 10000 { // bounded memory under a spray of addresses
			clear(s.failed)
		}
		f = &failures{first: now}
		s.failed[addr] = f
	}
	f.count++
}

// sameSecret compares two secrets in time that does not depend on where
// they differ.
func sameSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// checkKeys reports whether id and secret are a pair the server knows. An
// unknown id costs the same comparison as a known one.
func (h *Handler) checkKeys(id, secret string) bool {
	want, ok := h.cfg.Credentials(id)
	if !ok {
		want = "\x00 an access key that is not known \x00"
	}
	same := sameSecret(want, secret)
	return ok && same && secret != ""
}

func (h *Handler) secure(r *http.Request) bool { return h.cfg.Secure || r.TLS != nil }

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r)})
}

// requireSession wraps a page: without a live session a GET redirects to
// the sign-in page (which comes back to the page afterwards), anything
// else is refused; a POST must carry the session's CSRF token.
func (h *Handler) requireSession(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var ss *session
		if c, err := r.Cookie(sessionCookie); err == nil {
			ss = h.sessions.get(c.Value)
		}
		if ss == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, Prefix+"signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "Sign in first: your session ended or never began.", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			if !sameSecret(r.PostFormValue(csrfField), ss.csrf) {
				h.log.Warn("console: form without a valid CSRF token refused", "path", r.URL.Path)
				http.Error(w, "This form has no valid CSRF token: reload the page and submit it again.", http.StatusForbidden)
				return
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	}
}

// safeNext keeps a redirect target inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix
	}
	return next
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && h.sessions.get(c.Value) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.renderSignin(w, r, http.StatusOK, "", r.URL.Query().Get("next"))
}

func (h *Handler) renderSignin(w http.ResponseWriter, r *http.Request, status int, msg, next string) {
	token := randomToken()
	h.setCookie(w, r, signinCookie, token, 600)
	h.render(w, r, status, "signin", "Sign in", map[string]any{"Token": token, "Error": msg, "Next": next})
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(signinCookie)
	if err != nil || !sameSecret(c.Value, r.PostFormValue(csrfField)) {
		h.log.Warn("console: sign-in form without a valid CSRF token refused")
		http.Error(w, "This form has no valid CSRF token: reload the sign-in page and try again.", http.StatusForbidden)
		return
	}
	id := strings.TrimSpace(r.PostFormValue("access_key_id"))
	secret := r.PostFormValue("secret_access_key")
	next := r.PostFormValue("next")
	addr, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		addr = r.RemoteAddr
	}
	if h.sessions.throttled(addr) {
		h.log.Warn("console: sign-in throttled", "remote", addr)
		h.renderSignin(w, r, http.StatusTooManyRequests,
			fmt.Sprintf("Too many refused sign-ins from your address: try again in %v.", failureWindow), next)
		return
	}
	if !h.checkKeys(id, secret) {
		h.sessions.fail(addr)
		h.log.Warn("console: sign-in refused", "access_key_id", id, "remote", addr)
		h.renderSignin(w, r, http.StatusUnauthorized,
			"Those keys are not a pair this server knows. Use the server's access key ID and secret access key (CAIRN_ACCESS_KEY_ID, or credentials.json in its data dir).", next)
		return
	}
	ss := h.sessions.create(id)
	h.setCookie(w, r, signinCookie, "", -1)
	h.setCookie(w, r, sessionCookie, ss.token, 0)
	h.log.Info("console: signed in", "access_key_id", id)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		h.sessions.remove(c.Value)
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}
