package kb

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Snippet returns an HTML excerpt of text (about width characters) around
// the first of terms it contains, every occurrence of a term wrapped in
// <mark>. Everything else is escaped, so a title or body holding markup
// comes back as text. Matching is on folded text (full-width and case
// folded), mapped back rune for rune onto the original.
func Snippet(text string, terms []string, width int) string {
	return mark(plain(text), terms, width, false)
}

// Highlight returns text (a title) escaped, with terms marked.
func Highlight(text string, terms []string) string {
	return mark(text, terms, utf8.RuneCountInString(text), true)
}

func mark(text string, terms []string, width int, whole bool) string {
	rs := []rune(text)
	folded := make([]rune, len(rs))
	for i, r := range rs {
		folded[i] = fold(r)
	}
	var needles [][]rune
	for _, t := range terms {
		if t = normalizeWord(t); t != "" {
			needles = append(needles, []rune(t))
		}
	}
	marked := make([]bool, len(rs))
	first := -1
	for _, n := range needles {
		for i := 0; i+len(n) <= len(folded); i++ {
			if runesEqual(folded[i:i+len(n)], n) {
				for j := i; j < i+len(n); j++ {
					marked[j] = true
				}
				if first < 0 || i < first {
					first = i
				}
			}
		}
	}
	start := 0
	if !whole && first > width/4 {
		start = first - width/4
	}
	end := min(start+width, len(rs))
	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	in := false
	for i := start; i < end; i++ {
		if marked[i] != in {
			if in {
				b.WriteString("</mark>")
			} else {
				b.WriteString("<mark>")
			}
			in = marked[i]
		}
		b.WriteString(html.EscapeString(string(rs[i])))
	}
	if in {
		b.WriteString("</mark>")
	}
	if end < len(rs) {
		b.WriteString("…")
	}
	return b.String()
}

func runesEqual(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var (
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]*)\)`)
	mdMarks  = regexp.MustCompile("(\\*\\*|__|`|^#{1,6}\\s+|^\\s*(?:[-*+]|\\d+[.)])\\s+|^>\\s?)")
	mdSpaces = regexp.MustCompile(`\s+`)
)

// plain strips Markdown marks for snippets: link targets go, link texts
// stay; whitespace collapses.
func plain(md string) string {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		l = mdLink.ReplaceAllString(l, "$1")
		lines[i] = mdMarks.ReplaceAllString(l, "")
	}
	return strings.TrimSpace(mdSpaces.ReplaceAllString(strings.Join(lines, " "), " "))
}

// RenderHTML renders an article's Markdown to safe HTML. It knows a small
// subset — paragraphs, headings (#–###), bulleted and numbered lists, block
// quotes, **bold**, *italic*, `code`, [links](https://…) — and escapes
// everything else, so raw HTML in a body (<script>, <img onerror>) shows as
// text. Links keep only http, https, mailto, tel and site-relative targets;
// anything else (javascript:, data:) is dropped to its text.
func RenderHTML(md string) string {
	var b strings.Builder
	var para []string
	list := "" // "ul", "ol" or ""
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + strings.Join(para, "<br>") + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flushPara()
			closeList()
		case strings.HasPrefix(t, "#"):
			level := len(t) - len(strings.TrimLeft(t, "#"))
			if level > 3 || len(t) == level || t[level] != ' ' {
				para = append(para, inline(t))
				continue
			}
			flushPara()
			closeList()
			h := string(rune('0' + level + 1)) // # → h2: the page owns h1
			b.WriteString("<h" + h + ">" + inline(strings.TrimSpace(t[level:])) + "</h" + h + ">\n")
		case listItem.MatchString(t):
			flushPara()
			kind := "ul"
			if t[0] >= '0' && t[0] <= '9' {
				kind = "ol"
			}
			if list != kind {
				closeList()
				b.WriteString("<" + kind + ">\n")
				list = kind
			}
			b.WriteString("<li>" + inline(listItem.ReplaceAllString(t, "")) + "</li>\n")
		case strings.HasPrefix(t, ">"):
			flushPara()
			closeList()
			b.WriteString("<blockquote>" + inline(strings.TrimSpace(t[1:])) + "</blockquote>\n")
		default:
			closeList()
			para = append(para, inline(t))
		}
	}
	flushPara()
	closeList()
	return b.String()
}

var (
	listItem = regexp.MustCompile(`^(?:[-*+]|\d{1,3}[.)])\s+`)
	mdInline = regexp.MustCompile("`([^`]+)`|\\*\\*([^*]+)\\*\\*|\\*([^*]+)\\*|\\[([^\\]]*)\\]\\(([^)\\s]*)\\)")
)

// inline renders one line's inline marks; text between marks is escaped.
func inline(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range mdInline.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(html.EscapeString(s[last:m[0]]))
		last = m[1]
		part := func(i int) string { return s[m[2*i]:m[2*i+1]] }
		switch {
		case m[2] >= 0:
			b.WriteString("<code>" + html.EscapeString(part(1)) + "</code>")
		case m[4] >= 0:
			b.WriteString("<strong>" + html.EscapeString(part(2)) + "</strong>")
		case m[6] >= 0:
			b.WriteString("<em>" + html.EscapeString(part(3)) + "</em>")
		default:
			text, href := html.EscapeString(part(4)), part(5)
			if safeURL(href) {
				b.WriteString(`<a href="` + html.EscapeString(href) + `" rel="noopener noreferrer nofollow">` + text + "</a>")
			} else {
				b.WriteString(text)
			}
		}
	}
	b.WriteString(html.EscapeString(s[last:]))
	return b.String()
}

func safeURL(href string) bool {
	if strings.HasPrefix(href, "/") && !strings.HasPrefix(href, "//") {
		return !strings.ContainsAny(href, "\\")
	}
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto", "tel":
		return true
	}
	return false
}
