package calendar

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hotline12345/hotline"
)

func TestParseSpan(t *testing.T) {
	good := []struct {
		in   string
		want Span
	}{
		{"5wd", Span{5, WorkingDays}}, {"4wh", Span{4, WorkingHours}}, {"90wm", Span{90, WorkingMinutes}},
		{"24h", Span{24, Hours}}, {"2d", Span{2, Days}}, {"30m", Span{30, Minutes}}, {"0wd", Span{0, WorkingDays}},
		{" 15wd ", Span{15, WorkingDays}}, {"2500wd", Span{2500, WorkingDays}}, {"3650d", Span{3650, Days}},
		{"007wd", Span{7, WorkingDays}},
	}
	for _, tc := range good {
		got, err := ParseSpan(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, s := range []string{"", "wd", "5", "5x", "-1wd", "+1wd", "1.5wd", "99999999999wd", "2501wd", "3651d", "5 wd", "5WD", "5wdx", "1e3m"} {
		_, err := ParseSpan(s)
		var e *hotline.Error
		if hotline.ErrorCode(err) != hotline.EINVALID || !asError(err, &e) || e.Message == "" || e.MessageEN == "" {
			t.Errorf("ParseSpan(%q) = %v, want EINVALID with both messages", s, err)
		}
	}
	if s := (Span{5, WorkingDays}); s.String() != "5wd" || !s.Working() || (Span{5, Hours}).Working() {
		t.Error("String/Working")
	}

	type policy struct {
		Reply Span `json:"reply"`
	}
	b, err := json.Marshal(policy{Span{15, WorkingDays}})
	if err != nil || string(b) != `{"reply":"15wd"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var p policy
	if err := json.Unmarshal([]byte(`{"reply":"4wh"}`), &p); err != nil || p.Reply != (Span{4, WorkingHours}) {
		t.Fatalf("unmarshal: %+v %v", p, err)
	}
	if err := json.Unmarshal([]byte(`{"reply":"4weeks"}`), &p); err == nil {
		t.Error("unmarshalled 4weeks")
	}
}

func asError(err error, target **hotline.Error) bool { return errors.As(err, target) }

// FuzzParseSpan: any input either parses to a span within its limits that
// prints back to itself, or fails with EINVALID; never a panic.
func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"5wd", "4wh", "30m", "24h", "2d", "90wm", "", "-1wd", "99999999999999999999wd", "1\x00wd", "５wd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSpan(in)
		if err != nil {
			if hotline.ErrorCode(err) != hotline.EINVALID {
				t.Fatalf("ParseSpan(%q) error %v is not EINVALID", in, err)
			}
			return
		}
		if s.N < 0 || s.N > spanMax[s.Unit] {
			t.Fatalf("ParseSpan(%q) = %v outside its limits", in, s)
		}
		if back, err := ParseSpan(s.String()); err != nil || back != s {
			t.Fatalf("%v prints as %q which parses to %v, %v", s, s.String(), back, err)
		}
	})
}
