package httpapi

import (
	"net/http"

	"github.com/hotline12345/hotline/jsonhttp"
	"github.com/hotline12345/hotline/ticket"
)

func op(summary string, tags string, body string, params ...map[string]any) map[string]any {
	o := map[string]any{"summary": summary, "tags": []string{tags},
		"responses": map[string]any{
			"200": map[string]any{"description": "OK"},
			"400": map[string]any{"$ref": "#/components/responses/Error"},
			"401": map[string]any{"$ref": "#/components/responses/Error"},
			"403": map[string]any{"$ref": "#/components/responses/Error"},
			"404": map[string]any{"$ref": "#/components/responses/Error"},
			"409": map[string]any{"$ref": "#/components/responses/Error"},
			"422": map[string]any{"$ref": "#/components/responses/Error"},
			"429": map[string]any{"$ref": "#/components/responses/Error"},
		}}
	if body != "" {
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + body}}}}
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	return o
}

func param(name, in, desc string) map[string]any {
	return map[string]any{"name": name, "in": in, "description": desc, "required": in == "path", "schema": map[string]any{"type": "string"}}
}

func enum[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// OpenAPI returns the OpenAPI 3.1 description of the API.
func OpenAPI() map[string]any {
	str := map[string]any{"type": "string"}
	integer := map[string]any{"type": "integer"}
	number := map[string]any{"param": "number", "in": "path"}
	_ = number
	num := param("number", "path", "order number (工单号)")
	actions := enum(ticket.Actions)
	listParams := []map[string]any{
		param("state", "query", "comma-separated states"), param("unit", "query", "unit id (with sub-units)"),
		param("category", "query", "category code prefix"), param("type", "query", "request type"),
		param("channel", "query", "channel"), param("urgency", "query", "urgency"),
		param("from", "query", "registered from (YYYY-MM-DD or RFC 3339)"), param("to", "query", "registered up to (inclusive date)"),
		param("overdue", "query", "true: only overdue"), param("warning", "query", "yellow | red"),
		param("phone", "query", "citizen phone"), param("q", "query", "text in number, title, content, address"),
		param("escalated", "query", "true: problem orders"), param("sort", "query", "created | due"),
		param("limit", "query", "page size 1..200"), param("page", "query", "page number"), param("cursor", "query", "keyset cursor"),
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Hotline 12345 API", "version": "1.0.0",
			"description": "12345 政务服务便民热线 work orders. Authenticate with POST /auth/login and send `Authorization: Bearer <token>`. Errors: {\"error\":{\"code\",\"message\"(中文),\"message_en\"}}."},
		"servers": []any{map[string]any{"url": "/api/v1"}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses":       map[string]any{"Error": map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}},
			"schemas": map[string]any{
				"Error":          map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "object", "properties": map[string]any{"code": str, "message": str, "message_en": str}}}},
				"Login":          map[string]any{"type": "object", "required": []string{"username", "password"}, "properties": map[string]any{"username": str, "password": str}},
				"Unit":           map[string]any{"type": "object", "required": []string{"code", "name"}, "properties": map[string]any{"id": integer, "code": str, "name": str, "parent_id": integer, "kind": str, "region": str}},
				"Category":       map[string]any{"type": "object", "required": []string{"code", "name"}, "properties": map[string]any{"id": integer, "code": str, "name": str, "parent_id": integer}},
				"CatalogueEntry": map[string]any{"type": "object", "properties": map[string]any{"category_code": str, "region_unit_id": integer, "unit_id": integer, "note": str}},
				"NewUser": map[string]any{"type": "object", "required": []string{"username", "password", "name", "roles"}, "properties": map[string]any{
					"username": str, "password": str, "name": str, "unit_id": integer,
					"roles": map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []string{"admin", "agent", "dispatcher", "unit", "revisitor", "supervisor", "analyst", "editor"}}}}},
				"Draft": map[string]any{"type": "object", "required": []string{"channel", "type", "title", "content"}, "additionalProperties": false, "properties": map[string]any{
					"channel": map[string]any{"type": "string", "enum": enum(ticket.Channels)},
					"type":    map[string]any{"type": "string", "enum": enum(ticket.Types)},
					"urgency": map[string]any{"type": "string", "enum": enum(ticket.Urgencies), "default": "normal"},
					"title":   map[string]any{"type": "string", "maxLength": ticket.MaxTitle}, "content": map[string]any{"type": "string", "maxLength": ticket.MaxContent},
					"category_code": str, "address": str, "lat": map[string]any{"type": "number"}, "lng": map[string]any{"type": "number"},
					"region_unit_id": integer, "call_id": str,
					"citizen": map[string]any{"type": "object", "properties": map[string]any{"name": str, "phone": str, "confidential": map[string]any{"type": "boolean"}}}}},
				"Action": map[string]any{"type": "object", "required": []string{"version"}, "additionalProperties": false, "properties": map[string]any{
					"version": integer, "content": str, "reason": str, "lead_unit_id": integer,
					"assist_unit_ids": map[string]any{"type": "array", "items": integer}, "unit_id": integer,
					"result":       map[string]any{"type": "string", "enum": []string{"solved", "explained", "unsolved"}},
					"working_days": integer, "satisfaction": map[string]any{"type": "integer", "minimum": 1, "maximum": 5},
					"solved": map[string]any{"type": "boolean"}, "unreachable": map[string]any{"type": "boolean"},
					"due": map[string]any{"type": "string", "format": "date-time"}, "into": str,
					"disposition": map[string]any{"type": "string", "enum": []string{"legal_route", "transfer_110", "transfer_119", "transfer_120", "transfer_122"}},
					"article_id":  integer}},
				"PublicAction": map[string]any{"type": "object", "required": []string{"code", "version"}, "properties": map[string]any{"code": str, "version": integer, "content": str, "satisfaction": integer}},
			},
		},
		"security": []any{map[string]any{"bearer": []string{}}},
		"paths": map[string]any{
			"/auth/login":  map[string]any{"post": op("Sign in; returns {token, user}", "auth", "Login")},
			"/auth/logout": map[string]any{"post": op("Sign out", "auth", "")},
			"/auth/me":     map[string]any{"get": op("The signed-in user", "auth", "")},
			"/units":       map[string]any{"get": op("List units", "admin", ""), "post": op("Create a unit (admin)", "admin", "Unit")},
			"/categories":  map[string]any{"get": op("List categories", "admin", ""), "post": op("Create a category (admin)", "admin", "Category")},
			"/catalogue":   map[string]any{"get": op("Dispatch catalogue", "admin", ""), "post": op("Set a catalogue entry (admin)", "admin", "CatalogueEntry")},
			"/users":       map[string]any{"get": op("List users (admin)", "admin", ""), "post": op("Create a user (admin)", "admin", "NewUser")},
			"/policy":      map[string]any{"get": op("Time-limit policy", "admin", ""), "put": op("Replace the time-limit policy (admin)", "admin", "")},
			"/calendar/{year}": map[string]any{"get": op("Calendar year view", "admin", "", param("year", "path", "year")),
				"post": op("Load a year's holidays and make-up days (admin); text/plain lines `2027-01-01 off 元旦` / `2027-02-07 work`", "admin", "", param("year", "path", "year"))},
			"/calendar/days": map[string]any{"post": op("Mark one day working or off (admin override, optionally for a region)", "admin", "")},
			"/tickets": map[string]any{
				"get":  op("List orders (filters, pagination); unit users see their units' orders only", "tickets", "", listParams...),
				"post": op("Register an order; honours Idempotency-Key; 201 with the order, its number and query_code", "tickets", "Draft", param("Idempotency-Key", "header", "retry key")),
			},
			"/tickets/{number}":        map[string]any{"get": op("One order with deadlines, warning and the actions allowed to you", "tickets", "", num)},
			"/tickets/{number}/events": map[string]any{"get": op("The order's hash-chained event trail", "tickets", "", num)},
			"/tickets/{number}/related": map[string]any{"get": op("Open orders that are probably the same matter (并单候选), ranked with reasons", "tickets", "", num,
				param("window_days", "query", "look back this many days (default 30)"))},
			"/related": map[string]any{"post": op("Likely duplicates of a request being registered: {title, content, address, phone, region_unit_id, window_days}", "tickets", "")},
			"/tickets/{number}/{action}": map[string]any{"post": op("Perform a lifecycle action; stale version → 409", "tickets", "Action", num,
				map[string]any{"name": "action", "in": "path", "required": true, "schema": map[string]any{"type": "string", "enum": actions}})},
			"/stats/orders": map[string]any{"get": op("Order measures (FCR, on-time, return, reopen, revisit, solved, satisfaction, 三率)", "stats", "",
				param("from", "query", "date"), param("to", "query", "date"), param("by", "query", "unit | month | category | channel"))},
			"/stats/dispatch": map[string]any{"get": op("Smart dispatch by month: category suggestion accuracy, unit suggestion acceptance and accuracy, first-dispatch accuracy", "stats", "",
				param("from", "query", "date"), param("to", "query", "date"))},
			"/kb/search": map[string]any{"get": op("Search the knowledge base (segmented Chinese, synonyms, highlighted snippets); staff see internal articles", "kb", "",
				param("q", "query", "question"), param("category", "query", "category code prefix"))},
			"/kb/articles": map[string]any{"get": op("List articles by state (?state=draft|review|published|expired|withdrawn, ?stale=true for those due for review)", "kb", ""),
				"post": op("Create an article (editors may publish at once; a unit's starts as its own draft)", "kb", "")},
			"/kb/articles/{id}": map[string]any{"get": op("One article", "kb", "", param("id", "path", "article id")),
				"put": op("Change an article (a unit's change to a published article becomes a proposal)", "kb", "", param("id", "path", "article id"))},
			"/kb/articles/{id}/{action}": map[string]any{"post": op("submit | approve | reject | withdraw | expire | feedback", "kb", "", param("id", "path", "article id"),
				param("action", "path", "lifecycle step"))},
			"/kb/misses": map[string]any{"get": op("Questions that found no article over ?days= (default 30), commonest first", "kb", "",
				param("days", "query", "look-back in days"))},
			"/kb/usage": map[string]any{"get": op("Articles that resolved the most calls over ?days= (default 30)", "kb", "",
				param("days", "query", "look-back in days"))},
			"/kb/articles/{id}/history": map[string]any{"get": op("An article's versions", "kb", "", param("id", "path", "article id"))},
			"/public/kb/search":         map[string]any{"get": op("Citizens search public articles (rate-limited)", "public", "", param("q", "query", "question"))},
			"/public/requests":          map[string]any{"post": op("Citizen submits a request (no login, rate-limited)", "public", "Draft")},
			"/public/requests/{number}": map[string]any{"get": op("Citizen looks up progress with ?code=QUERYCODE", "public", "", num, param("code", "query", "query code"))},
			"/public/requests/{number}/{action}": map[string]any{"post": op("Citizen withdraws, adds information (comment) or rates (rate)", "public", "PublicAction", num,
				map[string]any{"name": "action", "in": "path", "required": true, "schema": map[string]any{"type": "string", "enum": []string{"withdraw", "comment", "rate"}}})},
		},
	}
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	jsonhttp.WriteJSON(w, http.StatusOK, OpenAPI())
}
