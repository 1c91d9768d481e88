// Command loadtest measures the SIP engine under load with sipp, on
// loopback only: it starts an engine in this process (SQLite in a
// temporary directory, default prompts, recording on), registers -agents
// agent phones (all played by one sipp server instance), and runs sipp
// callers at -rate new calls per second up to -calls calls, each talking
// -hold before hanging up. It prints the sipp summary, the calls recorded,
// CPU time per call and memory over time.
//
//	go run ./sip/loadtest -rate 20 -calls 3000 -hold 12s -agents 260
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hotline12345/hotline/callcenter"
	"github.com/hotline12345/hotline/database"
	"github.com/hotline12345/hotline/sip"
)

func main() {
	rate := flag.Int("rate", 20, "new calls per second")
	calls := flag.Int("calls", 2000, "calls to place")
	hold := flag.Duration("hold", 12*time.Second, "caller hangs up after this")
	agents := flag.Int("agents", 260, "agent phones to register")
	port := flag.Int("port", 15060, "engine SIP port on 127.0.0.1")
	noRec := flag.Bool("no-recording", false, "turn recording off")
	flag.Parse()
	if err := run(*rate, *calls, *hold, *agents, *port, *noRec); err != nil {
		log.Fatal(err)
	}
}

func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssMB() float64 {
	b, _ := os.ReadFile("/proc/self/statm")
	var size, rss int64
	fmt.Sscan(string(b), &size, &rss)
	return float64(rss*int64(os.Getpagesize())) / (1 << 20)
}

func run(rate, calls int, hold time.Duration, agents, port int, noRec bool) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "hotline-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := database.Open(ctx, "", dir)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := callcenter.New(ctx, db, callcenter.Options{DataDir: dir, WrapUp: -1, RingTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		return err
	}
	eng, err := sip.New(sip.Config{NoRecording: noRec, MaxCalls: 2000}, svc)
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- eng.Serve(sctx, addr) }()
	<-eng.Ready()

	here, _ := os.Getwd()
	scen := func(n string) string { return filepath.Join(here, "sip", "loadtest", n) }
	if _, err := os.Stat(scen("caller.xml")); err != nil {
		scen = func(n string) string { return filepath.Join(here, n) }
	}
	for i := 1; i <= agents; i++ {
		if err := svc.SetSIPPassword(ctx, int64(i), fmt.Sprintf("agent%03d", i), fmt.Sprintf("pw-%03d-secret", i)); err != nil {
			return err
		}
	}

	phonePort := freePort()
	phone := exec.Command("sipp", "-sf", scen("agent.xml"), "-i", "127.0.0.1", "-p", fmt.Sprint(phonePort), "-mp", "30000",
		"-d", fmt.Sprint((hold + 30*time.Second).Milliseconds()), "-nostdin", "-trace_screen", "-screen_file", filepath.Join(dir, "phone.screen"))
	phone.Dir = dir
	if err := phone.Start(); err != nil {
		return fmt.Errorf("phone sipp: %v", err)
	}
	defer func() { _ = phone.Process.Kill(); _ = phone.Wait() }() // our own child, by pid
	time.Sleep(500 * time.Millisecond)
	// One sipp per agent: this sipp build does not take per-call digest
	// credentials from an injection file.
	sem := make(chan struct{}, 8)
	errs := make(chan error, agents)
	for i := 1; i <= agents; i++ {
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem }()
			u, p := fmt.Sprintf("agent%03d", i), fmt.Sprintf("pw-%03d-secret", i)
			var err error
			var out []byte
			for attempt := 0; attempt < 3; attempt++ { // a free port may be taken again before sipp binds it
				reg := exec.Command("sipp", "-sf", scen("../testdata/register.xml"), "-s", u, "-au", u, "-ap", p, "-key", "agent_port", fmt.Sprint(phonePort),
					"-i", "127.0.0.1", "-p", fmt.Sprint(freePort()), "-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error", addr)
				reg.Dir = dir
				if out, err = reg.CombinedOutput(); err == nil {
					return
				}
			}
			errs <- fmt.Errorf("register %s: %v %s", u, err, lastLines(string(out), 20))
		}(i)
	}
	for i := 0; i < cap(sem); i++ {
		sem <- struct{}{}
	}
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	live, _ := svc.Live(ctx)
	fmt.Printf("agents ready: %d\n", live.ByState[callcenter.Ready])

	runtime.GC()
	cpu0, t0 := cpu(), time.Now()
	var ms runtime.MemStats
	stopSample := make(chan struct{})
	sampled := make(chan struct{})
	peak := 0
	go func() {
		defer close(sampled)
		tk := time.NewTicker(5 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stopSample:
				return
			case <-tk.C:
				runtime.ReadMemStats(&ms)
				n := eng.ActiveCalls()
				peak = max(peak, n)
				fmt.Printf("t=%3.0fs active calls %4d  heap %6.1f MB  rss %6.1f MB  goroutines %5d\n",
					time.Since(t0).Seconds(), n, float64(ms.HeapInuse)/(1<<20), rssMB(), runtime.NumGoroutine())
			}
		}
	}()
	callerArgs := []string{"-sf", scen("caller.xml"), "-i", "127.0.0.1", "-p", fmt.Sprint(freePort()), "-mp", "40000",
		"-r", fmt.Sprint(rate), "-m", fmt.Sprint(calls), "-l", "1000", "-d", fmt.Sprint(hold.Milliseconds()),
		"-nostdin", "-timeout", "30m", "-trace_stat", "-stf", filepath.Join(dir, "caller.csv"), "-trace_screen", "-screen_file", filepath.Join(dir, "caller.screen"), addr}
	fmt.Println("sipp", strings.Join(callerArgs, " "))
	caller := exec.Command("sipp", callerArgs...)
	caller.Dir = dir
	callerErr := caller.Run()
	elapsed, used := time.Since(t0), cpu()-cpu0
	close(stopSample)
	<-sampled
	screen, _ := os.ReadFile(filepath.Join(dir, "caller.screen"))
	fmt.Println(lastLines(string(screen), 30))
	fmt.Printf("sipp caller exit: %v\n", callerErr)

	time.Sleep(2 * time.Second)
	st, err := svc.Stats(ctx, t0.Add(-time.Minute), time.Now().Add(time.Minute), callcenter.ByAll)
	if err != nil {
		return err
	}
	if len(st) == 1 {
		fmt.Printf("records: offered %d answered %d abandoned %d (connection rate %.3f)\n", st[0].Offered, st[0].Answered, st[0].Abandoned, st[0].ConnectionRate)
	}
	fmt.Printf("elapsed %.1fs, engine CPU %.1fs (%.0f%% of one core), %.1f ms CPU per call, peak concurrent calls %d, %.2f%% of a core per concurrent call\n",
		elapsed.Seconds(), used.Seconds(), 100*used.Seconds()/elapsed.Seconds(), float64(used.Milliseconds())/float64(calls), peak,
		100*used.Seconds()/elapsed.Seconds()/float64(max(peak, 1)))
	stop()
	return <-done
}

func freePort() int {
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.LocalAddr().(*net.UDPAddr).Port
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
