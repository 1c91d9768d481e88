package hotline

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorfArguments(t *testing.T) {
	cases := []struct {
		e      *Error
		zh, en string
	}{
		{Errorf(EINVALID, "电话号码“%s”无效", "invalid phone number %q", "123"), "电话号码“123”无效", `invalid phone number "123"`},
		{Errorf(EINVALID, "%s不能为空", "%s is required", "标题", "title"), "标题不能为空", "title is required"},
	}
	for _, c := range cases {
		if c.e.Message != c.zh || c.e.MessageEN != c.en {
			t.Errorf("got %q / %q, want %q / %q", c.e.Message, c.e.MessageEN, c.zh, c.en)
		}
	}
	wrapped := fmt.Errorf("layer: %w", Errorf(ENOTFOUND, "无", "none"))
	if ErrorCode(wrapped) != ENOTFOUND || ErrorCode(errors.New("x")) != EINTERNAL || ErrorCode(nil) != "" {
		t.Fatal("ErrorCode")
	}
	if zh, _ := ErrorMessages(errors.New("secret detail")); zh == "secret detail" {
		t.Fatal("internal detail leaked")
	}
}
