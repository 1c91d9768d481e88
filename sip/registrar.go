package sip

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	siplib "github.com/emiago/sipgo/sip"

	"github.com/hotline12345/hotline/callcenter"
)

// binding is where an agent's phone can be reached.
type binding struct {
	contact siplib.Uri
	expires time.Time
	timer   *time.Timer
}

// registrar keeps the agents' phone bindings in memory (a phone
// re-registers within its expiry; a restarted node is re-learned within
// one registration interval). Credentials are checked by HTTP-style digest
// (RFC 3261 §22, RFC 2617) against the HA1 kept in sip_accounts.
type registrar struct {
	svc    *callcenter.Service
	secret []byte
	realm  string
	minExp time.Duration
	maxExp time.Duration

	mu       sync.Mutex
	bindings map[string]*binding
	closed   bool
}

func newRegistrar(svc *callcenter.Service) *registrar {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	return &registrar{svc: svc, secret: secret, realm: svc.Options().Realm,
		minExp: 30 * time.Second, maxExp: time.Hour, bindings: map[string]*binding{}}
}

// nonce is stateless: a timestamp and its MAC, valid for five minutes.
func (r *registrar) nonce(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 16)
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(ts))
	return ts + "." + hex.EncodeToString(m.Sum(nil))[:24]
}

func (r *registrar) nonceValid(n string, now time.Time) bool {
	ts, _, ok := strings.Cut(n, ".")
	if !ok || !hmac.Equal([]byte(n), []byte(r.nonce(time.Unix(mustHex(ts), 0)))) {
		return false
	}
	age := now.Sub(time.Unix(mustHex(ts), 0))
	return age >= -time.Minute && age <= 5*time.Minute
}

func mustHex(s string) int64 {
	v, err := strconv.ParseInt(s, 16, 64)
	if err != nil {
		return 0
	}
	return v
}

// parseDigest reads the parameters of an Authorization header.
func parseDigest(h string) map[string]string {
	h = strings.TrimSpace(h)
	if len(h) < 7 || !strings.EqualFold(h[:7], "digest ") {
		return nil
	}
	out := map[string]string{}
	rest := h[7:]
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				return nil
			}
			out[k] = v[1 : end+1]
			rest = v[end+2:]
		} else {
			val, after, _ := strings.Cut(v, ",")
			out[k] = strings.TrimSpace(val)
			rest = after
		}
	}
	return out
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// checkDigest verifies a digest response given the stored HA1.
func checkDigest(p map[string]string, method, ha1 string) bool {
	ha2 := md5hex(method + ":" + p["uri"])
	var want string
	if qop := p["qop"]; qop != "" {
		if qop != "auth" {
			return false
		}
		want = md5hex(ha1 + ":" + p["nonce"] + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	} else {
		want = md5hex(ha1 + ":" + p["nonce"] + ":" + ha2)
	}
	return hmac.Equal([]byte(want), []byte(strings.ToLower(p["response"])))
}

func (r *registrar) challenge(req *siplib.Request, tx siplib.ServerTransaction, stale bool) {
	res := siplib.NewResponseFromRequest(req, 401, "Unauthorized", nil)
	v := fmt.Sprintf(`Digest realm="%s", nonce="%s", algorithm=MD5, qop="auth"`, r.realm, r.nonce(time.Now()))
	if stale {
		v += ", stale=true"
	}
	res.AppendHeader(siplib.NewHeader("WWW-Authenticate", v))
	_ = tx.Respond(res)
}

// handle answers REGISTER: challenge, verify, bind or unbind.
func (r *registrar) handle(req *siplib.Request, tx siplib.ServerTransaction) {
	respond := func(code int, reason string) {
		_ = tx.Respond(siplib.NewResponseFromRequest(req, code, reason, nil))
	}
	to := req.To()
	if to == nil || to.Address.User == "" {
		respond(400, "Bad Request")
		return
	}
	user := to.Address.User
	h := req.GetHeader("Authorization")
	if h == nil {
		r.challenge(req, tx, false)
		return
	}
	p := parseDigest(h.Value())
	if p == nil || p["username"] != user || p["realm"] != r.realm {
		respond(403, "Forbidden")
		return
	}
	if !r.nonceValid(p["nonce"], time.Now()) {
		r.challenge(req, tx, true)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	acct, err := r.svc.Store().SIPAccount(ctx, user)
	cancel()
	if err != nil || acct.Realm != r.realm || !checkDigest(p, string(req.Method), acct.HA1) {
		// A wrong password is refused outright rather than challenged
		// again, so a misconfigured phone does not loop.
		respond(403, "Forbidden")
		return
	}

	exp := 3600 * time.Second
	if e := req.GetHeader("Expires"); e != nil {
		if v, err := strconv.Atoi(strings.TrimSpace(e.Value())); err == nil {
			exp = time.Duration(v) * time.Second
		}
	}
	c := req.Contact()
	if c != nil && c.Params != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				exp = time.Duration(n) * time.Second
			}
		}
	}
	if c == nil {
		// A query: report the current binding.
		res := siplib.NewResponseFromRequest(req, 200, "OK", nil)
		if b := r.lookupBinding(user); b != nil {
			res.AppendHeader(siplib.NewHeader("Contact", "<"+b.contact.String()+">"))
		}
		_ = tx.Respond(res)
		return
	}
	if exp == 0 || c.Address.Wildcard {
		r.unbind(user)
		respond(200, "OK")
		return
	}
	if exp < r.minExp {
		res := siplib.NewResponseFromRequest(req, 423, "Interval Too Brief", nil)
		res.AppendHeader(siplib.NewHeader("Min-Expires", strconv.Itoa(int(r.minExp/time.Second))))
		_ = tx.Respond(res)
		return
	}
	exp = min(exp, r.maxExp)
	r.bind(user, c.Address, exp)
	res := siplib.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(siplib.NewHeader("Contact", "<"+c.Address.String()+">;expires="+strconv.Itoa(int(exp/time.Second))))
	res.AppendHeader(siplib.NewHeader("Expires", strconv.Itoa(int(exp/time.Second))))
	_ = tx.Respond(res)
}

func (r *registrar) bind(user string, contact siplib.Uri, exp time.Duration) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	b := r.bindings[user]
	if b != nil && b.timer != nil {
		b.timer.Stop()
	}
	b = &binding{contact: contact, expires: time.Now().Add(exp)}
	// A binding that is not refreshed takes the agent offline.
	b.timer = time.AfterFunc(exp, func() { r.expire(user, b) })
	r.bindings[user] = b
	r.mu.Unlock()
	if _, err := r.svc.AgentDo(user, callcenter.ActLogin, ""); err != nil {
		r.svc.Options().Logger.Warn("agent login on register", "agent", user, "err", err)
	}
}

func (r *registrar) expire(user string, b *binding) {
	r.mu.Lock()
	if r.bindings[user] != b {
		r.mu.Unlock()
		return
	}
	delete(r.bindings, user)
	r.mu.Unlock()
	_, _ = r.svc.AgentDo(user, callcenter.ActLogout, "")
}

func (r *registrar) unbind(user string) {
	r.mu.Lock()
	if b := r.bindings[user]; b != nil {
		b.timer.Stop()
		delete(r.bindings, user)
	}
	r.mu.Unlock()
	_, _ = r.svc.AgentDo(user, callcenter.ActLogout, "")
}

func (r *registrar) lookupBinding(user string) *binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.bindings[user]
	if b == nil || time.Now().After(b.expires) {
		return nil
	}
	cp := *b
	return &cp
}

// close stops the expiry timers.
func (r *registrar) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for u, b := range r.bindings {
		b.timer.Stop()
		delete(r.bindings, u)
	}
}
