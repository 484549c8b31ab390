package console

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/cairn-backup/cairn/internal/backup"
)

func (h *Handler) routes() {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", cacheStatic(http.FileServerFS(static))))
	mux.HandleFunc("GET "+Prefix+"signin", h.signinPage)
	mux.HandleFunc("POST "+Prefix+"signin", h.signin)
	mux.HandleFunc("POST "+Prefix+"signout", h.requireSession(h.signout))

	page := func(pattern string, f http.HandlerFunc) { mux.HandleFunc(pattern, h.requireSession(f)) }
	page("GET "+Prefix+"{$}", h.dashboard)
	page("GET "+Prefix+"backup-jobs", h.backupJobs)
	page("GET "+Prefix+"backup-jobs/{id}", h.backupJob)
	page("GET "+Prefix+"backup-jobs/{id}/stop", h.stopConfirm)
	page("POST "+Prefix+"backup-jobs/{id}/stop", h.stop)
	page("GET "+Prefix+"restore-jobs", h.restoreJobs)
	page("GET "+Prefix+"restore-jobs/{id}", h.restoreJob)
	page("GET "+Prefix+"copy-jobs", h.copyJobs)
	page("GET "+Prefix+"copy-jobs/{id}", h.copyJob)
	page("GET "+Prefix+"events", h.events)
	page("GET "+Prefix+"vaults", h.vaults)
	page("GET "+Prefix+"vaults/{name}", h.vault)
	page("GET "+Prefix+"point", h.point)
	page("POST "+Prefix+"point/restore", h.restore)
	page("GET "+Prefix+"point/delete", h.deleteConfirm)
	page("POST "+Prefix+"point/delete", h.deletePoint)
	page("GET "+Prefix+"plans", h.plans)
	page("GET "+Prefix+"plans/{id}", h.plan)
	page("GET "+Prefix+"protected", h.protected)
	page("GET "+Prefix+"explain", h.explain)
	page("GET "+Prefix+"backup/new", h.backupForm)
	page("POST "+Prefix+"backup/confirm", h.backupConfirm)
	page("POST "+Prefix+"backup/start", h.backupStart)
	page("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, backup.Errorf(backup.ErrNotFound, "there is no console page at %s", r.URL.Path))
	})
	h.mux = mux
}

// cacheStatic serves the embedded files (never a directory listing).
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "private, max-age=300")
		next.ServeHTTP(w, r)
	})
}

// view is what every page template gets.
type view struct {
	Title string
	// Nav is the menu entry to mark as current.
	Nav  string
	CSRF string
	// KeyID is the signed-in access key.
	KeyID string
	Data  any
}

// render executes a page into a buffer first, so that a template error
// never leaves half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	t := h.pages[name]
	v := view{Title: title, Nav: name, Data: data}
	if ss := sessionOf(r.Context()); ss != nil {
		v.CSRF, v.KeyID = ss.csrf, ss.accessKeyID
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.log.Error("console: render", "page", name, "error", err)
		http.Error(w, "The page could not be drawn; the server's log says why.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail shows an error page: the domain's message for what the user can
// fix, a generic one (and a log line) for the rest.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on the server; its log says what."
	var be *backup.Error
	if errors.As(err, &be) {
		msg = be.Message
		switch be.Code {
		case backup.ErrNotFound:
			status = http.StatusNotFound
		case backup.ErrInvalidParameter, backup.ErrMissingParameter, backup.ErrInvalidRequest, backup.ErrAlreadyExists:
			status = http.StatusBadRequest
		case backup.ErrConflict:
			status = http.StatusConflict
		case backup.ErrLimitExceeded:
			status = http.StatusTooManyRequests
		case backup.ErrUnavailable:
			status = http.StatusServiceUnavailable
		default:
			msg = "Something went wrong on the server; its log says what."
			h.log.Error("console: request failed", "path", r.URL.Path, "error", err)
		}
	} else {
		h.log.Error("console: request failed", "path", r.URL.Path, "error", err)
	}
	h.render(w, r, status, "error", http.StatusText(status), map[string]any{"Status": status, "Message": msg})
}

// resourceARN turns a table name into its ARN in the server's region and
// account; an ARN stays as it is.
func (h *Handler) resourceARN(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "arn:") {
		return s
	}
	return backup.TableARN(h.cfg.Region, h.cfg.AccountID, s)
}

func asBackupError(err error, be **backup.Error) bool { return errors.As(err, be) }
