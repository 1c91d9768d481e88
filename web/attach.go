package web

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/httpapi"
	"github.com/hotline12345/hotline/storage"
)

// Attachments (photos of the problem, a unit's reply documents) are kept in
// the database, not on a local disk, so that every node of a cluster serves
// them. Their type is decided by sniffing the bytes, never by the name or
// the browser's claim; they are stored under a random key and served as
// downloads with nosniff, only to people who may see the order (and to the
// citizen holding the query code, for their own uploads).

const (
	maxFileSize  = 10 << 20
	maxFiles     = 5
	maxFormBytes = maxFiles*maxFileSize + 1<<20
)

// allowedTypes maps sniffed content types to the extension we serve them with.
var allowedTypes = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp", "application/pdf": ".pdf",
}

func migrate(ctx context.Context, store *storage.Store) error {
	return store.DB.Migrate(ctx, "web", []database.Migration{{Version: 1, Name: "attachments", SQL: `
CREATE TABLE web_attachments (
	id {{id}},
	file_key TEXT NOT NULL UNIQUE,
	ticket_number TEXT NOT NULL,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size BIGINT NOT NULL,
	citizen INTEGER NOT NULL DEFAULT 0,
	uploaded_by BIGINT NOT NULL DEFAULT 0,
	uploader TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	data {{blob}} NOT NULL
);
CREATE INDEX web_attachments_ticket ON web_attachments (ticket_number, id);
`}})
}

// upload is one checked file from a form.
type upload struct {
	Name, Type string
	Data       []byte
}

var errTooLarge = hotline.Errorf(hotline.EINVALID, "附件过大：每个文件不超过10MB，最多5个", "attachments too large: at most 5 files of 10 MB each")

// parseUpload parses a (possibly multipart) form under a size limit and
// returns the checked files of its "files" field.
func parseUpload(w http.ResponseWriter, r *http.Request) ([]upload, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseForm(); err != nil {
			return nil, hotline.Errorf(hotline.EINVALID, "表单无效", "invalid form")
		}
		return nil, nil
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, hotline.Errorf(hotline.EINVALID, "表单无效", "invalid form")
	}
	var out []upload
	for _, fh := range r.MultipartForm.File["files"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // an empty file input
		}
		if len(out) == maxFiles || fh.Size > maxFileSize {
			return nil, errTooLarge
		}
		u, err := readUpload(fh)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func readUpload(fh *multipart.FileHeader) (upload, error) {
	f, err := fh.Open()
	if err != nil {
		return upload{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return upload{}, err
	}
	if len(data) > maxFileSize {
		return upload{}, errTooLarge
	}
	ct := http.DetectContentType(data)
	if _, ok := allowedTypes[ct]; !ok {
		return upload{}, hotline.Errorf(hotline.EINVALID, "不支持的附件类型“%s”：仅限图片（JPG、PNG、GIF、WebP）和PDF",
			"unsupported attachment %q: images (JPG, PNG, GIF, WebP) and PDF only", cleanName(fh.Filename), cleanName(fh.Filename))
	}
	return upload{Name: cleanName(fh.Filename), Type: ct, Data: data}, nil
}

// cleanName keeps a file name displayable: no path, no control characters.
func cleanName(n string) string {
	n = path.Base(strings.ReplaceAll(n, "\\", "/"))
	n = strings.Map(func(r rune) rune {
		if r < 32 || r == 127 || r == '"' {
			return -1
		}
		return r
	}, n)
	if r := []rune(n); len(r) > 100 {
		n = string(r[:100])
	}
	if n == "" || n == "." || n == "/" {
		n = "file"
	}
	return n
}

// saveFiles stores files for an order; by is nil for the citizen.
func (s *Server) saveFiles(ctx context.Context, number string, files []upload, by *hotline.User) error {
	if len(files) == 0 {
		return nil
	}
	return s.store.DB.Tx(ctx, func(tx *database.Tx) error {
		for _, f := range files {
			b := make([]byte, 16)
			rand.Read(b)
			citizen, uid, uploader := 1, int64(0), "市民"
			if by != nil {
				citizen, uid, uploader = 0, by.ID, by.Name
			}
			if _, err := tx.Exec(ctx, `INSERT INTO web_attachments (file_key, ticket_number, name, content_type, size, citizen, uploaded_by, uploader, created_at, data)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, hex.EncodeToString(b), number, f.Name, f.Type, len(f.Data), citizen, uid, uploader,
				database.Millis(time.Now()), f.Data); err != nil {
				return err
			}
		}
		return nil
	})
}

// attachment is a stored file's metadata.
type attachment struct {
	Key, Name, Type, Uploader, At, URL string
	Size                               int64
	Citizen, Image                     bool
}

func (s *Server) attachments(ctx context.Context, number string, citizenOnly bool) ([]attachment, error) {
	q := `SELECT file_key, name, content_type, size, citizen, uploader, created_at FROM web_attachments WHERE ticket_number = ?`
	if citizenOnly {
		q += ` AND citizen = 1`
	}
	rows, err := s.store.DB.Query(ctx, q+` ORDER BY id`, number)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []attachment
	for rows.Next() {
		var a attachment
		var citizen int
		var at int64
		if err := rows.Scan(&a.Key, &a.Name, &a.Type, &a.Size, &citizen, &a.Uploader, &at); err != nil {
			return nil, err
		}
		a.Citizen, a.Image = citizen == 1, strings.HasPrefix(a.Type, "image/")
		a.At = fmtTime(time.UnixMilli(at))
		out = append(out, a)
	}
	return out, rows.Err()
}

// serveFile sends one attachment of the order as a download.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, number, key string, citizenOnly bool) {
	var name, ct string
	var data []byte
	q := `SELECT name, content_type, data FROM web_attachments WHERE file_key = ? AND ticket_number = ?`
	if citizenOnly {
		q += ` AND citizen = 1`
	}
	err := s.store.DB.QueryRow(r.Context(), q, key, number).Scan(&name, &ct, &data)
	if errors.Is(err, sql.ErrNoRows) {
		s.fail(w, r, hotline.Errorf(hotline.ENOTFOUND, "附件不存在", "attachment not found"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, ok := allowedTypes[ct]; !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", "attachment; filename=\"file"+allowedTypes[ct]+"\"; filename*=UTF-8''"+url.PathEscape(name))
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Write(data)
}

// staffFile: whoever may open the order may download its files.
func (s *Server) staffFile(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	number := chi.URLParam(r, "number")
	if _, err := s.store.TicketFor(r.Context(), number, u); err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveFile(w, r, number, chi.URLParam(r, "id"), false)
}

// citizenFile: the citizen with the query code gets their own uploads.
func (s *Server) citizenFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.public.Allow(httpapi.ClientIP(r)) {
		s.fail(w, r, hotline.Errorf(hotline.ETOOMANY, "查询过于频繁，请稍后再试", "too many look-ups; please try again later"))
		return
	}
	number := q.Get("number")
	if _, err := s.store.PublicTicket(r.Context(), number, q.Get("code")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveFile(w, r, number, chi.URLParam(r, "id"), true)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
