package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"path"

	"github.com/go-chi/chi/v5"
)

// uiFiles is the UI: one html/template page and its hand-written script and style.
//
//go:embed ui/index.html ui/app.js ui/style.css
var uiFiles embed.FS

// uiAssets are the files served as they are under /micro/ui/, with their content types.
var uiAssets = map[string]string{
	"app.js":    "text/javascript; charset=utf-8",
	"style.css": "text/css; charset=utf-8",
}

func parseUI() (*template.Template, error) {
	t, err := template.ParseFS(uiFiles, "ui/index.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the UI template: %w", err)
	}
	return t, nil
}

// uiPage is what the page template is rendered with.
type uiPage struct {
	Version       string
	RefreshMillis int64
	MaxEvents     int
}

func (s *Server) serveUI(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	err := s.ui.Execute(&buf, uiPage{
		Version:       s.version,
		RefreshMillis: s.cfg.UIRefresh.Milliseconds(),
		MaxEvents:     s.cfg.MaxEvents,
	})
	if err != nil {
		s.log.Error("rendering the UI", "err", err)
		writeText(w, http.StatusInternalServerError, "rendering the UI: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "file")
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
	_, _ = w.Write(data)
}
