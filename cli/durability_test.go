package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotline12345/hotline/database"
)

// TestCrashLosesNoAcknowledgedOrder builds the real binary, registers orders
// from 16 concurrent clients, SIGKILLs the server mid-load, restarts it, and
// checks that every order the server acknowledged is there, and that
// retrying every request (same Idempotency-Key) creates no duplicate.
func TestCrashLosesNoAcknowledgedOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: the crash test builds and kills the real binary")
	}
	bin := filepath.Join(t.TempDir(), "hotline")
	build := exec.Command("go", "build", "-o", bin, "../cmd/hotline")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	t.Run("sqlite", func(t *testing.T) { crashTest(t, bin, nil) })
	t.Run("postgres", func(t *testing.T) {
		url := os.Getenv(database.TestEnvURL)
		if url == "" {
			t.Skip("PostgreSQL crash test skipped: set " + database.TestEnvURL)
		}
		db, err := database.Open(context.Background(), url, "")
		if err != nil {
			t.Fatal(err)
		}
		schema := fmt.Sprintf("crash_%d", time.Now().UnixNano())
		if _, err := db.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); db.Close() })
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		crashTest(t, bin, []string{"HOTLINE_DATABASE_URL=" + url + sep + "search_path=" + schema})
	})
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServer(t *testing.T, bin, data, addr string, env []string) *exec.Cmd {
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr)
	cmd.Env = append(append(os.Environ(), "HOTLINE_ADMIN_PASSWORD=crash-test-pw"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatalf("server did not start:\n%s", out.String())
	return nil
}

func login(t *testing.T, addr string) string {
	res, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"crash-test-pw"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	json.NewDecoder(res.Body).Decode(&out)
	if out.Token == "" {
		t.Fatalf("login failed: %d", res.StatusCode)
	}
	return out.Token
}

func create(addr, token, key string) (string, int, error) {
	body := `{"channel":"phone","type":"help","title":"断电测试","content":"服务器被强制终止时已确认的工单不得丢失","citizen":{"phone":"13812345678"}}`
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/tickets", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	var out struct{ Number string }
	json.NewDecoder(res.Body).Decode(&out)
	return out.Number, res.StatusCode, nil
}

func crashTest(t *testing.T, bin string, env []string) {
	data, addr := t.TempDir(), freeAddr(t)
	srv := startServer(t, bin, data, addr, env)
	token := login(t, addr)
	var mu sync.Mutex
	acked := map[string]string{} // key → number
	var tried []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				mu.Lock()
				tried = append(tried, key)
				mu.Unlock()
				num, status, err := create(addr, token, key)
				if err != nil {
					return // the server died under us
				}
				if status == 201 {
					mu.Lock()
					acked[key] = num
					mu.Unlock()
				}
			}
		}()
	}
	for {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 400 {
			break
		}
	}
	srv.Process.Signal(syscall.SIGKILL)
	srv.Wait()
	close(stop)
	wg.Wait()
	t.Logf("killed the server after %d acknowledged of %d attempted registrations", len(acked), len(tried))

	srv = startServer(t, bin, data, addr, env)
	defer func() { srv.Process.Kill(); srv.Wait() }()
	token = login(t, addr)
	for key, num := range acked {
		got, status, err := create(addr, token, key) // retry = lookup by key
		if err != nil || status != 200 || got != num {
			t.Fatalf("acknowledged order %s (key %s) after restart: got %q status %d err %v", num, key, got, status, err)
		}
	}
	// Retrying every attempt never creates a second order for a key.
	numbers := map[string]bool{}
	for _, key := range tried {
		num, status, err := create(addr, token, key)
		if err != nil || (status != 200 && status != 201) {
			t.Fatalf("retry %s: %d %v", key, status, err)
		}
		if numbers[num] {
			t.Fatalf("two keys share order %s", num)
		}
		numbers[num] = true
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/tickets?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Total int }
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if list.Total != len(tried) {
		t.Fatalf("%d orders for %d distinct keys: duplicates or losses", list.Total, len(tried))
	}
}
