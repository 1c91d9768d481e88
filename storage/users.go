package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
)

// NewUser is what an administrator fills in to create a staff account.
type NewUser struct {
	Username string         `json:"username"`
	Password string         `json:"password"`
	Name     string         `json:"name"`
	Roles    []hotline.Role `json:"roles"`
	UnitID   int64          `json:"unit_id"`
}

// argon2id parameters (OWASP: m=19 MiB, t=2, p=1).
const (
	argonTime   = 2
	argonMemory = 19 * 1024
	argonKeyLen = 32
)

// HashPassword returns an encoded argon2id hash of password.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, 1, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", argonMemory, argonTime,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches the encoded hash.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash keeps the time of a login with an unknown user name equal to
// one with a wrong password.
var dummyHash = HashPassword("no such user")

func (s *Store) validateUser(ctx context.Context, nu *NewUser) error {
	nu.Username = strings.TrimSpace(nu.Username)
	if len(nu.Username) < 2 || len(nu.Username) > 50 || strings.ContainsAny(nu.Username, " \t\r\n/\\:") {
		return hotline.Errorf(hotline.EINVALID, "用户名须为2至50个字符且不含空格", "username must be 2–50 characters without spaces")
	}
	if err := validName("name", "姓名", nu.Name, 50); err != nil {
		return err
	}
	if len(nu.Password) < 8 || len(nu.Password) > 200 {
		return hotline.Errorf(hotline.EINVALID, "密码长度须为8至200个字符", "password must be 8–200 characters")
	}
	if len(nu.Roles) == 0 {
		return hotline.Errorf(hotline.EINVALID, "请至少选择一个角色", "at least one role is required")
	}
	for _, r := range nu.Roles {
		if !r.Valid() {
			return hotline.Errorf(hotline.EINVALID, "未知角色：%q", "unknown role %q", r, r)
		}
	}
	hasUnit := false
	for _, r := range nu.Roles {
		hasUnit = hasUnit || r == hotline.RoleUnit
	}
	if hasUnit && nu.UnitID == 0 {
		return hotline.Errorf(hotline.EINVALID, "承办人须指定所属单位", "a unit user needs a unit_id")
	}
	if nu.UnitID != 0 {
		units, err := s.UnitTree(ctx)
		if err != nil {
			return err
		}
		if !units.Exists(nu.UnitID) {
			return hotline.Errorf(hotline.EINVALID, "单位不存在", "unit does not exist")
		}
	}
	return nil
}

// CreateUser creates a staff account.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (*hotline.User, error) {
	if err := s.validateUser(ctx, &nu); err != nil {
		return nil, err
	}
	return s.insertUser(ctx, nu, HashPassword(nu.Password))
}

func (s *Store) insertUser(ctx context.Context, nu NewUser, hash string) (*hotline.User, error) {
	u := &hotline.User{Username: nu.Username, Name: strings.TrimSpace(nu.Name), Roles: nu.Roles, UnitID: nu.UnitID}
	err := s.DB.Tx(ctx, func(tx *database.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO users (username, name, password_hash, roles, unit_id, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Username, u.Name, hash, joinRoles(u.Roles), nullID(u.UnitID), database.Millis(s.now())).Scan(&u.ID)
		if database.IsUniqueViolation(err) {
			return hotline.Errorf(hotline.ECONFLICT, "用户名“%s”已存在", "username %q already exists", u.Username, u.Username)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func joinRoles(rs []hotline.Role) string {
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = string(r)
	}
	return strings.Join(ss, ",")
}

func splitRoles(s string) []hotline.Role {
	var out []hotline.Role
	for _, p := range strings.Split(s, ",") {
		if p != "" {
			out = append(out, hotline.Role(p))
		}
	}
	return out
}

const userCols = `id, username, name, roles, unit_id, disabled`

func scanUser(row interface{ Scan(...any) error }) (*hotline.User, error) {
	var u hotline.User
	var roles string
	var unit sql.NullInt64
	var disabled int
	if err := row.Scan(&u.ID, &u.Username, &u.Name, &roles, &unit, &disabled); err != nil {
		return nil, err
	}
	u.Roles, u.UnitID, u.Disabled = splitRoles(roles), unit.Int64, disabled != 0
	return &u, nil
}

// Users lists every account.
func (s *Store) Users(ctx context.Context) ([]*hotline.User, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+userCols+` FROM users ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hotline.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// User returns one account.
func (s *Store) User(ctx context.Context, id int64) (*hotline.User, error) {
	u, err := scanUser(s.DB.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("用户不存在", "user not found")
	}
	return u, err
}

// CountUsers returns the number of accounts (0 on a new installation).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// Authenticate checks a user name and password.
func (s *Store) Authenticate(ctx context.Context, username, password string) (*hotline.User, error) {
	var hash string
	row := s.DB.QueryRow(ctx, `SELECT `+userCols+`, password_hash FROM users WHERE username = ?`, username)
	var u hotline.User
	var roles string
	var unit sql.NullInt64
	var disabled int
	err := row.Scan(&u.ID, &u.Username, &u.Name, &roles, &unit, &disabled, &hash)
	bad := hotline.Errorf(hotline.EUNAUTHORIZED, "用户名或密码错误", "wrong username or password")
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if !CheckPassword(hash, password) || disabled != 0 {
		return nil, bad
	}
	u.Roles, u.UnitID = splitRoles(roles), unit.Int64
	return &u, nil
}

// SetPassword changes a user's password.
func (s *Store) SetPassword(ctx context.Context, userID int64, password string) error {
	if len(password) < 8 || len(password) > 200 {
		return hotline.Errorf(hotline.EINVALID, "密码长度须为8至200个字符", "password must be 8–200 characters")
	}
	_, err := s.DB.Exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, HashPassword(password), userID)
	return err
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// CreateSession issues a bearer/session token for userID. Only the token's
// hash is stored.
func (s *Store) CreateSession(ctx context.Context, userID int64, ttl time.Duration) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	_, err := s.DB.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		tokenHash(token), userID, database.Millis(now), database.Millis(now.Add(ttl)))
	return token, err
}

// SessionUser returns the user of a live session token.
func (s *Store) SessionUser(ctx context.Context, token string) (*hotline.User, error) {
	u, err := scanUser(s.DB.QueryRow(ctx, `SELECT u.id, u.username, u.name, u.roles, u.unit_id, u.disabled
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`,
		tokenHash(token), database.Millis(s.now())))
	if errors.Is(err, sql.ErrNoRows) || err == nil && u.Disabled {
		return nil, hotline.Errorf(hotline.EUNAUTHORIZED, "登录已过期，请重新登录", "session expired or invalid; please sign in again")
	}
	return u, err
}

// DeleteSession signs a token out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	_, err := s.DB.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash(token))
	return err
}
