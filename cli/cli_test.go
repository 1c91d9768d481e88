package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/hotline12345/hotline"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/storage"
	"github.com/hotline12345/hotline/ticket"
)

// run executes the command line and captures standard output.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	r, w, _ := os.Pipe()
	old := os.Stdout
	os.Stdout = w
	code := Main(args)
	w.Close()
	os.Stdout = old
	var buf bytes.Buffer
	io.Copy(&buf, r)
	return buf.String(), code
}

func TestSLADue(t *testing.T) {
	out, code := run(t, "sla", "due", "--data", t.TempDir(), "--from", "2026-02-13T16:00:00+08:00", "--add", "5wd")
	var got struct {
		Due         string `json:"due"`
		Provisional bool   `json:"provisional"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("exit %d: %s", code, out)
	}
	if got.Due != "2026-02-27T17:30:00+08:00" || got.Provisional {
		t.Fatalf("got %+v", got)
	}
	out, _ = run(t, "sla", "due", "--data", t.TempDir(), "--from", "2026-12-30T10:00:00+08:00", "--add", "3wd")
	if !bytes.Contains([]byte(out), []byte(`"provisional":true`)) {
		t.Fatalf("past the loaded years: %s", out)
	}
	if _, code := run(t, "sla", "due", "--data", t.TempDir(), "--from", "yesterday", "--add", "5wd"); code == 0 {
		t.Fatal("a bad --from succeeded")
	}
	if _, code := run(t, "sla", "due", "--data", t.TempDir(), "--from", "2026-02-13T16:00:00+08:00", "--add", "5weeks"); code == 0 {
		t.Fatal("a bad --add succeeded")
	}
}

func TestAuditVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	if out, code := run(t, "migrate", "--data", dir); code != 0 {
		t.Fatalf("migrate: %d %s", code, out)
	}
	if out, code := run(t, "audit", "verify", "--data", dir); code != 0 {
		t.Fatalf("empty database: %d %s", code, out)
	}
	ctx := context.Background()
	db, store := openDataDir(t, dir)
	agent, err := store.CreateUser(ctx, storage.NewUser{Username: "a1", Password: "password1", Name: "话务员", Roles: []hotline.Role{hotline.RoleAgent}})
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := store.CreateTicket(ctx, ticket.Draft{Channel: ticket.Phone, Type: ticket.Help, Title: "审计测试", Content: "内容"}, agent, "u", "")
	if err != nil {
		t.Fatal(err)
	}
	store.Act(ctx, tk.Number, ticket.Command{Action: ticket.ActComment, User: agent, Version: tk.Version, Content: "补充"})
	if out, code := run(t, "audit", "verify", "--data", dir); code != 0 {
		t.Fatalf("intact: %d %s", code, out)
	}
	db.Exec(ctx, "DROP TRIGGER ticket_events_no_update")
	db.Exec(ctx, "UPDATE ticket_events SET text = '篡改' WHERE seq = 2")
	store.Close()
	db.Close()
	out, code := run(t, "audit", "verify", "--data", dir)
	if code != 2 || !strings.Contains(out, "event 2") {
		t.Fatalf("tampered: exit %d: %s", code, out)
	}
}

// openDataDir opens the SQLite database in a data directory, as the commands do.
func openDataDir(t *testing.T, dir string) (*database.DB, *storage.Store) {
	t.Helper()
	db, err := database.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return db, store
}
