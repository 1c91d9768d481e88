package storage

import "github.com/hotline12345/hotline/database"

// migrations of the work-order core. Never edit a released step; append.
var migrations = []database.Migration{
	{Version: 1, Name: "core", SQL: `
CREATE TABLE units (
	id {{id}},
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	parent_id BIGINT REFERENCES units(id),
	kind TEXT NOT NULL DEFAULT '',
	region TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL
);
CREATE TABLE categories (
	id {{id}},
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	parent_id BIGINT REFERENCES categories(id),
	created_at BIGINT NOT NULL
);
CREATE TABLE catalogue (
	id {{id}},
	category_code TEXT NOT NULL,
	region_unit_id BIGINT NOT NULL DEFAULT 0,
	unit_id BIGINT NOT NULL REFERENCES units(id),
	note TEXT NOT NULL DEFAULT '',
	UNIQUE (category_code, region_unit_id)
);
CREATE TABLE users (
	id {{id}},
	username TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	roles TEXT NOT NULL,
	unit_id BIGINT REFERENCES units(id),
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id BIGINT NOT NULL REFERENCES users(id),
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE TABLE tickets (
	id {{id}},
	number TEXT NOT NULL UNIQUE,
	query_code TEXT NOT NULL,
	channel TEXT NOT NULL,
	type TEXT NOT NULL,
	urgency TEXT NOT NULL,
	state TEXT NOT NULL,
	category_code TEXT NOT NULL DEFAULT '',
	title TEXT NOT NULL,
	citizen_phone TEXT NOT NULL DEFAULT '',
	address TEXT NOT NULL DEFAULT '',
	lead_unit_id BIGINT NOT NULL DEFAULT 0,
	handler_unit_id BIGINT NOT NULL DEFAULT 0,
	region_unit_id BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	closed_at BIGINT,
	active_due BIGINT,
	warn_at BIGINT,
	provisional INTEGER NOT NULL DEFAULT 0,
	escalated INTEGER NOT NULL DEFAULT 0,
	first_unit_id BIGINT NOT NULL DEFAULT 0,
	fcr INTEGER NOT NULL DEFAULT 0,
	dispatch_count INTEGER NOT NULL DEFAULT 0,
	return_count INTEGER NOT NULL DEFAULT 0,
	reopen_count INTEGER NOT NULL DEFAULT 0,
	extended_days INTEGER NOT NULL DEFAULT 0,
	contacted INTEGER NOT NULL DEFAULT 0,
	replied_at BIGINT,
	replied_late INTEGER NOT NULL DEFAULT 0,
	satisfaction INTEGER NOT NULL DEFAULT 0,
	solved INTEGER NOT NULL DEFAULT -1,
	unreachable INTEGER NOT NULL DEFAULT 0,
	version INTEGER NOT NULL,
	event_seq INTEGER NOT NULL,
	last_hash TEXT NOT NULL,
	doc TEXT NOT NULL
);
CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_state_created ON tickets (state, created_at DESC, id DESC);
CREATE INDEX tickets_handler_state ON tickets (handler_unit_id, state, created_at DESC);
CREATE INDEX tickets_lead_created ON tickets (lead_unit_id, created_at DESC);
CREATE INDEX tickets_category_created ON tickets (category_code, created_at DESC);
CREATE INDEX tickets_phone ON tickets (citizen_phone, created_at DESC);
CREATE INDEX tickets_active_due ON tickets (active_due);
CREATE INDEX tickets_warn_at ON tickets (warn_at, active_due);
CREATE INDEX tickets_provisional ON tickets (provisional);
CREATE TABLE ticket_units (
	ticket_id BIGINT NOT NULL REFERENCES tickets(id),
	unit_id BIGINT NOT NULL,
	state TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (ticket_id, unit_id)
);
CREATE INDEX ticket_units_unit ON ticket_units (unit_id, created_at DESC, ticket_id DESC);
CREATE INDEX ticket_units_unit_state ON ticket_units (unit_id, state, created_at DESC, ticket_id DESC);
CREATE TABLE ticket_events (
	id {{id}},
	ticket_id BIGINT NOT NULL REFERENCES tickets(id),
	seq INTEGER NOT NULL,
	action TEXT NOT NULL,
	actor_id BIGINT NOT NULL DEFAULT 0,
	actor_name TEXT NOT NULL,
	role TEXT NOT NULL,
	unit_id BIGINT NOT NULL DEFAULT 0,
	at BIGINT NOT NULL,
	from_state TEXT NOT NULL DEFAULT '',
	to_state TEXT NOT NULL,
	text TEXT NOT NULL DEFAULT '',
	data TEXT NOT NULL DEFAULT '',
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	UNIQUE (ticket_id, seq)
);
CREATE INDEX ticket_events_at ON ticket_events (at);
CREATE TABLE idempotency_keys (
	scope TEXT NOT NULL,
	key TEXT NOT NULL,
	ticket_id BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (scope, key)
);
CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE calendar_days (
	day TEXT NOT NULL,
	region TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	note TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (day, region)
);
CREATE TABLE calendar_years (
	year INTEGER PRIMARY KEY,
	loaded_at BIGINT NOT NULL
);
CREATE TABLE admin_warnings (
	id {{id}},
	kind TEXT NOT NULL,
	message TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	resolved_at BIGINT,
	UNIQUE (kind)
)`},
}

// appendOnly forbids UPDATE and DELETE on ticket_events at the database, so
// that the audit trail cannot be rewritten through the application's own
// connection.
var appendOnlySQLite = database.Migration{Version: 2, Name: "append-only events", SQL: `
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;
CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END`}

var appendOnlyPostgres = database.Migration{Version: 2, Name: "append-only events", SQL: `
CREATE FUNCTION ticket_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ticket_events is append-only'; END $$;
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE OR DELETE ON ticket_events FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only()`}

// suggestionColumns keep what smart dispatch proposed next to what was
// done, for the suggestion-accuracy report (DispatchQuality).
var suggestionColumns = database.Migration{Version: 3, Name: "dispatch suggestions", SQL: `
ALTER TABLE tickets ADD COLUMN suggested_category TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN suggested_unit_id BIGINT NOT NULL DEFAULT 0`}
