package web

import (
	"embed"
	"net/http"
	"path"

	"github.com/go-chi/chi/v5"
)

// uiFiles is the UI: a static page with hand-written script and style (no build step).
// It is a client of the same /micro API that test suites use.
//
//go:embed ui/index.html ui/app.js ui/style.css
var uiFiles embed.FS

// uiAssets are the files served under /micro/ui/, with their content types.
var uiAssets = map[string]string{
	"index.html": "text/html; charset=utf-8",
	"app.js":     "text/javascript; charset=utf-8",
	"style.css":  "text/css; charset=utf-8",
}

// uiCSP allows the page nothing but its own files and same-origin requests: no inline
// script, so event data that ever reached the DOM as markup still could not run.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, "index.html")
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	serveFile(w, r, chi.URLParam(r, "file"))
}

func serveFile(w http.ResponseWriter, r *http.Request, name string) {
	ctype, ok := uiAssets[name]
	if !ok {
		notFound(w, r)
		return
	}
	data, err := uiFiles.ReadFile(path.Join("ui", name))
	if err != nil {
		notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(data)
}
