// Package jsonhttp is how every JSON adapter of the platform (the API, the
// knowledge base, the call center) answers: one error shape
// {"error":{"code","message"(中文),"message_en"}}, one mapping from error
// codes to status codes, one strict body decoder.
package jsonhttp

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hotline12345/hotline"
)

// statusOf maps application error codes to HTTP status codes — the one
// place where that mapping lives.
var statusOf = map[string]int{
	hotline.EINVALID:       http.StatusBadRequest,
	hotline.EUNAUTHORIZED:  http.StatusUnauthorized,
	hotline.EFORBIDDEN:     http.StatusForbidden,
	hotline.ENOTFOUND:      http.StatusNotFound,
	hotline.ECONFLICT:      http.StatusConflict,
	hotline.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	hotline.ETOOMANY:       http.StatusTooManyRequests,
	hotline.EINTERNAL:      http.StatusInternalServerError,
}

// Status is the HTTP status for err: its code's, or 500.
func Status(err error) int {
	if status, ok := statusOf[hotline.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		MessageEN string `json:"message_en"`
	} `json:"error"`
}

// WriteError writes err as {"error":{code,message,message_en}} with its status.
// Internal errors are logged and reach the client without detail.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code := hotline.ErrorCode(err)
	status := Status(err)
	if status == http.StatusInternalServerError {
		slog.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message, body.Error.MessageEN = hotline.ErrorMessages(err)
	WriteJSON(w, status, body)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// maxBody bounds a request body; work-order text is at most 10,000
// characters, so 1 MiB leaves room for everything else.
const maxBody = 1 << 20

// Decode reads one JSON object into v, refusing unknown fields, trailing
// data, wrong types and oversized bodies with a clear message.
func Decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return hotline.Errorf(hotline.EINVALID, "请求体须为JSON（Content-Type: application/json）", "request body must be JSON (Content-Type: application/json)")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return hotline.Errorf(hotline.EINVALID, "请求体只能包含一个JSON对象", "request body must contain a single JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return hotline.Errorf(hotline.EINVALID, "请求体为空", "request body is empty")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return hotline.Errorf(hotline.EINVALID, "JSON格式错误", "malformed JSON")
	case errors.As(err, &typ):
		return hotline.Errorf(hotline.EINVALID, "字段“%s”类型错误", "field %q has the wrong type", typ.Field, typ.Field)
	case errors.As(err, &tooBig):
		return hotline.Errorf(hotline.EINVALID, "请求体过大（最大1MB）", "request body too large (at most 1 MiB)")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return hotline.Errorf(hotline.EINVALID, "未知字段：%s", "unknown field %s", f, f)
	}
	return hotline.Errorf(hotline.EINVALID, "请求体无法解析", "request body cannot be parsed")
}
