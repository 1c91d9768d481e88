package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/jsonhttp"
)

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := jsonhttp.Decode(w, r, &req); err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	key := strings.ToLower(req.Username) + "|" + ClientIP(r)
	if s.logins.Blocked(key) {
		w.Header().Set("Retry-After", "900")
		jsonhttp.WriteError(w, r, hotline.Errorf(hotline.ETOOMANY, "登录失败次数过多，请15分钟后再试", "too many failed sign-ins; try again in 15 minutes"))
		return
	}
	u, err := s.Store.Authenticate(r.Context(), req.Username, req.Password)
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EUNAUTHORIZED {
			s.logins.Allow(key)
		}
		jsonhttp.WriteError(w, r, err)
		return
	}
	s.logins.Reset(key)
	token, err := s.Store.CreateSession(r.Context(), u.ID, SessionTTL)
	if err != nil {
		jsonhttp.WriteError(w, r, err)
		return
	}
	logf("login", "user", u.Username)
	jsonhttp.WriteJSON(w, http.StatusOK, map[string]any{"token": token, "user": u, "expires_in": int(SessionTTL.Seconds())})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		s.Store.DeleteSession(r.Context(), strings.TrimPrefix(h, "Bearer "))
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	jsonhttp.WriteJSON(w, http.StatusOK, hotline.UserFrom(r.Context()))
}
