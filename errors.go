// Package hotline holds what every part of the platform shares: the typed
// application error that carries a machine code and a message in Chinese and
// English. The domain lives in the sub-packages named for what they are
// (calendar, ticket, kb, classify, callcenter …); adapters (storage, httpapi,
// web, sip) depend inward on them.
package hotline

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in exactly one place (httpapi).
const (
	EINVALID       = "invalid"       // 400: malformed or out-of-range input
	EUNAUTHORIZED  = "unauthorized"  // 401: not signed in
	EFORBIDDEN     = "forbidden"     // 403: signed in, not allowed
	ENOTFOUND      = "not_found"     // 404
	ECONFLICT      = "conflict"      // 409: stale version, duplicate key
	EUNPROCESSABLE = "unprocessable" // 422: well-formed but impossible (e.g. wrong state)
	ETOOMANY       = "too_many"      // 429: rate limited
	EINTERNAL      = "internal"      // 500
)

// Error is an application error: Code for programs, Message (Chinese) and
// MessageEN for people. Wrap it with %w; find it with errors.As or ErrorCode.
type Error struct {
	Code      string
	Message   string
	MessageEN string
	Err       error // optional cause, never shown to users
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s (%s): %v", e.Code, e.MessageEN, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.MessageEN, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a Chinese and an English message. The
// arguments fill the Chinese format first; if more are given than it has
// verbs, the rest fill the English one (so each language may order and
// word its arguments its own way), otherwise both use the same arguments.
func Errorf(code, zh, en string, args ...any) *Error {
	if len(args) > 0 {
		n := verbs(zh)
		enArgs := args
		if len(args) > n {
			enArgs = args[n:]
			args = args[:n]
		}
		zh = fmt.Sprintf(zh, args...)
		en = fmt.Sprintf(en, enArgs...)
	}
	return &Error{Code: code, Message: zh, MessageEN: en}
}

// verbs counts the formatting verbs in f (%% is not one).
func verbs(f string) int {
	n := 0
	for i := 0; i < len(f); i++ {
		if f[i] == '%' {
			if i+1 < len(f) && f[i+1] == '%' {
				i++
				continue
			}
			n++
		}
	}
	return n
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessages returns the Chinese and English messages for err; internal
// errors get a generic message so that no detail leaks to users.
func ErrorMessages(err error) (zh, en string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Message, e.MessageEN
	}
	return "服务器内部错误，请稍后重试", "internal server error, please try again later"
}
