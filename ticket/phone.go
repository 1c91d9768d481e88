package ticket

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/hotline12345/hotline"
)

// NormalizePhone checks a citizen's phone number and returns it in the form
// stored and searched: mainland numbers in national digits (13812345678,
// 01062345678), others in E.164 (+85291234567). Empty stays empty.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	bad := hotline.Errorf(hotline.EINVALID, "电话号码“%s”无效", "invalid phone number %q", s, s)
	if len(s) > 30 {
		return "", bad
	}
	n, err := phonenumbers.Parse(s, "CN")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", bad
	}
	if n.GetCountryCode() == 86 {
		out := phonenumbers.Format(n, phonenumbers.NATIONAL)
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, out), nil
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}
