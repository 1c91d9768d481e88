package hotline

import (
	"context"
	"slices"
)

// Role is what a staff user may do. A user may hold several roles.
type Role string

const (
	RoleAdmin      Role = "admin"      // 管理员: users, units, categories, policies, calendar
	RoleAgent      Role = "agent"      // 话务员: answers calls and messages, registers orders
	RoleDispatcher Role = "dispatcher" // 派单员: routes orders, reviews returns, extensions, replies
	RoleUnit       Role = "unit"       // 承办人: works the orders of one unit (and its sub-units)
	RoleRevisitor  Role = "revisitor"  // 回访员: calls citizens back, records satisfaction
	RoleSupervisor Role = "supervisor" // 督办员/值班长: urges, supervises, watches live load
	RoleAnalyst    Role = "analyst"    // 管理者/分析: dashboards, rankings, reports (read only)
	RoleEditor     Role = "editor"     // 知识库管理员: approves knowledge-base articles
)

// Roles lists every role in display order.
var Roles = []Role{RoleAdmin, RoleAgent, RoleDispatcher, RoleUnit, RoleRevisitor, RoleSupervisor, RoleAnalyst, RoleEditor}

// RoleNames gives each role's Chinese name.
var RoleNames = map[Role]string{
	RoleAdmin: "管理员", RoleAgent: "话务员", RoleDispatcher: "派单员", RoleUnit: "承办人",
	RoleRevisitor: "回访员", RoleSupervisor: "督办员", RoleAnalyst: "分析员", RoleEditor: "知识库管理员",
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// User is a signed-in staff member. UnitID is set for unit users.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Roles    []Role `json:"roles"`
	UnitID   int64  `json:"unit_id,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
}

// Has reports whether u holds any of roles.
func (u *User) Has(roles ...Role) bool {
	if u == nil {
		return false
	}
	for _, r := range roles {
		if slices.Contains(u.Roles, r) {
			return true
		}
	}
	return false
}

type userKey struct{}

// WithUser returns a context carrying u (set by the HTTP layer after
// authentication).
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the signed-in user, or nil for an anonymous request.
func UserFrom(ctx context.Context) *User {
	u, _ := ctx.Value(userKey{}).(*User)
	return u
}
