package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/ticket"
)

// FuzzDecodeDraft feeds arbitrary bodies to the request decoder and the
// draft validation: they must never panic, and anything refused must be
// refused with EINVALID.
func FuzzDecodeDraft(f *testing.F) {
	f.Add(`{"channel":"phone","type":"help","title":"路灯不亮","content":"滨江路路灯坏了","citizen":{"phone":"13812345678"}}`)
	f.Add(`{"channel":`)
	f.Add(`{"lat":91,"lng":0}`)
	f.Add(`{"title":"\u0000\ud800"}`)
	f.Add(`[]`)
	f.Add(`{"citizen":{"phone":"+8613812345678"}}{}`)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/api/v1/tickets", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		var d ticket.Draft
		if err := jsonhttp.Decode(w, r, &d); err != nil {
			if hotline.ErrorCode(err) != hotline.EINVALID {
				t.Fatalf("decode error with code %q: %v", hotline.ErrorCode(err), err)
			}
			return
		}
		if err := d.Validate(); err != nil && hotline.ErrorCode(err) != hotline.EINVALID {
			t.Fatalf("validate error with code %q: %v", hotline.ErrorCode(err), err)
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	f.Add("state", "registered,closed")
	f.Add("from", "2026-02-30")
	f.Add("phone", "+86 (010) 1234")
	f.Add("limit", "99999999999999999999")
	f.Fuzz(func(t *testing.T, k, v string) {
		_, err := ParseFilter(map[string][]string{k: {v}})
		if err != nil && hotline.ErrorCode(err) != hotline.EINVALID {
			t.Fatalf("%s=%q: %v", k, v, err)
		}
	})
}
