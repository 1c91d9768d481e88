package callcenter

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

// Why a call-back task exists.
const (
	CallbackAbandoned = "abandoned" // 漏接: the caller hung up before an agent answered
	CallbackRequested = "requested" // the caller pressed 1 to be called back instead of waiting
)

// Call-back task states.
const (
	CallbackOpen   = "open"
	CallbackDone   = "done"   // reached the caller
	CallbackFailed = "failed" // tried, could not reach
)

// CallbackTask is a call the hotline owes a citizen.
type CallbackTask struct {
	ID        int64      `json:"id"`
	CallID    string     `json:"call_id"`
	Caller    string     `json:"caller"`
	Queue     string     `json:"queue"`
	Reason    string     `json:"reason"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
	DoneBy    string     `json:"done_by,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// Callbacks lists call-back tasks in a state ("" for all), oldest first so
// the longest-owed call is made first.
func (s *Store) Callbacks(ctx context.Context, state string, limit int) ([]CallbackTask, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q := `SELECT id, call_id, caller, queue, reason, state, created_at, done_at, done_by, note FROM callbacks`
	args := []any{}
	if state != "" {
		q += ` WHERE state = ?`
		args = append(args, state)
	}
	q += fmt.Sprintf(` ORDER BY created_at, id LIMIT %d`, limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []CallbackTask{}
	for rows.Next() {
		var t CallbackTask
		var created int64
		var done sql.NullInt64
		if err := rows.Scan(&t.ID, &t.CallID, &t.Caller, &t.Queue, &t.Reason, &t.State, &created, &done, &t.DoneBy, &t.Note); err != nil {
			return nil, err
		}
		t.CreatedAt = time.UnixMilli(created)
		if done.Valid {
			d := time.UnixMilli(done.Int64)
			t.DoneAt = &d
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CloseCallback records the outcome of an open call-back task.
func (s *Store) CloseCallback(ctx context.Context, id int64, state, by, note string, at time.Time) error {
	if state != CallbackDone && state != CallbackFailed {
		return hotline.Errorf(hotline.EINVALID, "回拨结果须为done或failed", "state must be done or failed")
	}
	if len(note) > 500 {
		return hotline.Errorf(hotline.EINVALID, "备注不超过500字", "note is at most 500 characters")
	}
	res, err := s.db.Exec(ctx, `UPDATE callbacks SET state = ?, done_at = ?, done_by = ?, note = ? WHERE id = ? AND state = 'open'`,
		state, at.UnixMilli(), by, note, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return hotline.Errorf(hotline.ENOTFOUND, "没有该待回拨任务", "no open call-back task with this id")
	}
	return nil
}

var sipUsername = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

// HA1 is the SIP digest secret MD5(username:realm:password) (RFC 2617):
// the registrar needs only this, so the password itself is never stored.
func HA1(username, realm, password string) string {
	h := md5.Sum([]byte(username + ":" + realm + ":" + password))
	return hex.EncodeToString(h[:])
}

// SIPAccount is the credential an agent's phone registers with.
type SIPAccount struct {
	Username string
	UserID   int64
	Realm    string
	HA1      string
}

// SetSIPAccount stores (or replaces) the SIP credential of a platform user.
func (s *Store) SetSIPAccount(ctx context.Context, userID int64, username, realm, password string, at time.Time) error {
	if !sipUsername.MatchString(username) {
		return hotline.Errorf(hotline.EINVALID, "SIP用户名只能含字母、数字和._-，不超过40字符", "SIP username: letters, digits, . _ - (at most 40)")
	}
	if len(password) < 6 || len(password) > 128 {
		return hotline.Errorf(hotline.EINVALID, "SIP密码须为6至128个字符", "SIP password must be 6..128 characters")
	}
	ha1 := HA1(username, realm, password)
	res, err := s.db.Exec(ctx, `UPDATE sip_accounts SET user_id = ?, realm = ?, ha1 = ?, updated_at = ? WHERE username = ?`,
		userID, realm, ha1, at.UnixMilli(), username)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	_, err = s.db.Exec(ctx, `INSERT INTO sip_accounts (username, user_id, realm, ha1, updated_at) VALUES (?, ?, ?, ?, ?)`,
		username, userID, realm, ha1, at.UnixMilli())
	if database.IsUniqueViolation(err) {
		return hotline.Errorf(hotline.ECONFLICT, "SIP用户名已被占用", "SIP username already taken")
	}
	return err
}

// SIPAccount returns the credential for a SIP user name.
func (s *Store) SIPAccount(ctx context.Context, username string) (*SIPAccount, error) {
	a := SIPAccount{Username: username}
	err := s.db.QueryRow(ctx, `SELECT user_id, realm, ha1 FROM sip_accounts WHERE username = ?`, username).Scan(&a.UserID, &a.Realm, &a.HA1)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.Errorf(hotline.ENOTFOUND, "SIP账号不存在", "no such SIP account")
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// SIPUsernames returns the SIP user names of a platform user.
func (s *Store) SIPUsernames(ctx context.Context, userID int64) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT username FROM sip_accounts WHERE user_id = ? ORDER BY username`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ExpiredRecordings returns calls whose recording is older than before.
func (s *Store) ExpiredRecordings(ctx context.Context, before time.Time, limit int) ([]Call, error) {
	return s.query(ctx, `SELECT `+cols+` FROM calls WHERE recording <> '' AND arrived_at < ? ORDER BY arrived_at LIMIT ?`, before.UnixMilli(), limit)
}

// ClearRecording forgets a call's recording after its file was deleted.
func (s *Store) ClearRecording(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, `UPDATE calls SET recording = '' WHERE id = ?`, id)
	return err
}
