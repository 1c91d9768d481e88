package ticket

// Unit is a government unit (承办单位): a city department, a district, a
// street or township, a community, or a public utility. Units form a tree; a
// unit may forward orders to the units below it (二级派单).
type Unit struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	ParentID int64  `json:"parent_id,omitempty"`
	Kind     string `json:"kind,omitempty"` // department, district, street, community, utility, hotline
	Region   string `json:"region,omitempty"`
}

// UnitTree answers questions about the unit hierarchy. The zero value is an
// empty tree; build it with NewUnitTree.
type UnitTree struct {
	units  map[int64]Unit
	parent map[int64]int64
}

// NewUnitTree indexes units by id.
func NewUnitTree(units []Unit) *UnitTree {
	t := &UnitTree{units: make(map[int64]Unit, len(units)), parent: make(map[int64]int64, len(units))}
	for _, u := range units {
		t.units[u.ID] = u
		t.parent[u.ID] = u.ParentID
	}
	return t
}

// Get returns the unit with id.
func (t *UnitTree) Get(id int64) (Unit, bool) {
	if t == nil {
		return Unit{}, false
	}
	u, ok := t.units[id]
	return u, ok
}

// Exists reports whether id names a unit.
func (t *UnitTree) Exists(id int64) bool { _, ok := t.Get(id); return ok }

// Within reports whether unit id is ancestor or lies below it. A cycle in bad
// data cannot loop: the walk is bounded by the number of units.
func (t *UnitTree) Within(id, ancestor int64) bool {
	if t == nil || id == 0 || ancestor == 0 {
		return false
	}
	for i := 0; i <= len(t.units) && id != 0; i++ {
		if id == ancestor {
			return true
		}
		id = t.parent[id]
	}
	return false
}

// District returns the nearest ancestor of id (or id itself) whose kind is
// "district", 0 if none.
func (t *UnitTree) District(id int64) int64 {
	for i := 0; t != nil && i <= len(t.units) && id != 0; i++ {
		if t.units[id].Kind == "district" {
			return id
		}
		id = t.parent[id]
	}
	return 0
}

// Children returns the direct sub-units of id.
func (t *UnitTree) Children(id int64) []Unit {
	var out []Unit
	if t == nil {
		return out
	}
	for _, u := range t.units {
		if u.ParentID == id {
			out = append(out, u)
		}
	}
	return out
}

// All returns every unit.
func (t *UnitTree) All() []Unit {
	out := make([]Unit, 0, len(t.units))
	for _, u := range t.units {
		out = append(out, u)
	}
	return out
}
